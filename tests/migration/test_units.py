"""Small pure parts: the state file, the traffic figures, the verdict, the inventory."""

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from strangler.plan.inventory import Endpoint, build_inventory, sample_path, walk_urlconf
from strangler.proxy import ProxyError
from strangler.proxy.accesslog import p99, read_recent
from strangler.proxy.state import HISTORY_LIMIT, State, load_state, save_state
from strangler.proxy.traffic import p99_ms, summarise
from strangler.proxy.verify import parse_outcome
from tests.migration.exposition import exposition


def record(state: State, action: str, step: str) -> None:
    state.record(action=action, step=step, table_hash="t", structure_hash="s", mode="push")


def test_state_stacks_applies_and_pops_rollbacks(tmp_path):
    state = State()
    record(state, "up", "0-monolith")
    record(state, "apply", "1-auth")
    record(state, "apply", "4-catalog")
    assert state.stack == ["0-monolith", "1-auth"]
    record(state, "rollback", "1-auth")
    assert (state.step, state.stack) == ("1-auth", ["0-monolith"])
    path = tmp_path / "strangler" / "state.json"
    save_state(path, state)
    again = load_state(path)
    assert again == state
    assert [h["to"] for h in again.history] == ["0-monolith", "1-auth", "4-catalog", "1-auth"]
    assert not list(path.parent.glob(".*tmp"))  # no temp file left behind


def test_state_history_is_bounded():
    state = State()
    for index in range(HISTORY_LIMIT + 10):
        record(state, "apply", f"step-{index % 2}")
    assert len(state.history) == HISTORY_LIMIT


def test_a_missing_state_file_is_a_fresh_install_and_a_corrupt_one_an_error(tmp_path):
    assert load_state(tmp_path / "none.json") == State()
    broken = tmp_path / "state.json"
    broken.write_text("{not json")
    with pytest.raises(ProxyError, match="cannot read"):
        load_state(broken)


def test_p99_is_the_nearest_rank():
    assert p99([]) is None
    assert p99([5.0]) == 5.0
    assert p99([float(v) for v in range(1, 101)]) == 99.0
    assert p99([float(v) for v in range(1, 201)]) == 198.0


def test_traffic_is_summarised_per_route_and_backend_from_the_proxys_metrics():
    traffic = summarise(
        exposition(
            [
                {"route": "products", "backend": "monolith", "seconds": 0.010},
                {"route": "products", "backend": "catalog", "code": 503, "seconds": 0.002},
                {"route": "products", "backend": "monolith", "seconds": 0.030},
            ]
        )
    )
    assert traffic[("products", "*")].requests == 3
    assert traffic[("products", "*")].errors == 1
    # Interpolated in the bucket that holds the 99th percentile: (0.025 s, 0.05 s].
    assert traffic[("products", "monolith")].p99_ms == pytest.approx(49.5)
    assert traffic[("products", "catalog")].error_rate == 1.0
    assert summarise("") == {}


def test_p99_from_buckets_interpolates_like_histogram_quantile_and_stops_at_the_last_bound():
    assert p99_ms({}) is None
    assert p99_ms({0.1: 0.0, math.inf: 0.0}) is None
    # 100 requests, 98 up to 0.1 s, 2 up to 0.2 s: the 99th lies halfway into (0.1, 0.2].
    assert p99_ms({0.1: 98.0, 0.2: 100.0, math.inf: 100.0}) == pytest.approx(150.0)
    # Beyond the last finite bound nothing is known but that bound.
    assert p99_ms({0.1: 50.0, 0.2: 50.0, math.inf: 100.0}) == pytest.approx(200.0)


def test_the_recent_lines_of_the_access_log_are_read_back(tmp_path):
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    log = tmp_path / "access.log"
    lines = [
        json.dumps({"time": (now - timedelta(minutes=ago)).isoformat(), "route": route})
        for ago, route in ((30, "old"), (2, "recent"))
    ]
    log.write_text("\n".join([*lines, "garbage that is not json"]) + "\n")
    assert [entry["route"] for entry in read_recent(log, minutes=5, now=now)] == ["recent"]
    assert read_recent(tmp_path / "absent.log", minutes=5) == []


def test_the_verdict_is_pytests_closing_line_and_the_first_failure():
    output = (
        "..F.\n"
        "FAILED tests/contract/test_auth.py::test_token - assert 500 == 200\n"
        "FAILED tests/contract/test_cart.py::test_cart - boom\n"
        "1 failed, 3 passed in 2.01s\n"
    )
    verdict = parse_outcome(1, output)
    assert not verdict.ok
    assert verdict.summary == "1 failed, 3 passed in 2.01s"
    assert verdict.first_failure == "tests/contract/test_auth.py::test_token"
    line = verdict.line(step="1-auth", base_url="http://127.0.0.1:8080")
    assert line.startswith(
        "FAIL: contract suite at step 1-auth via http://127.0.0.1:8080: 1 failed"
    )
    passed = parse_outcome(0, "....\n========= 4 passed in 1.00s =========\n")
    assert passed.ok and passed.summary == "4 passed in 1.00s" and passed.first_failure is None


def test_sample_paths_for_route_and_regex_patterns():
    assert sample_path("api/products/<id:product_id>/reviews") == "/api/products/1/reviews"
    assert sample_path("internal/sync/events/<uuid:event_id>").startswith(
        "/internal/sync/events/0000"
    )
    assert sample_path("admin/^(?P<app_label>auth|catalog)/$") == "/admin/auth/"
    assert sample_path("admin/(?P<url>.*)$") == "/admin/"


def test_the_inventory_flags_uncovered_endpoints_and_unmatched_routes(shop_plan):
    endpoints = [
        Endpoint("/api/products", "/api/products", ("GET", "HEAD", "POST")),
        Endpoint(
            "/api/products/<id>", "/api/products/1", ("GET", "HEAD", "PUT", "PATCH", "DELETE")
        ),
        Endpoint("/api/wishlist", "/api/wishlist", ("GET",)),
        Endpoint("/api/cart", "/api/cart", ("GET", "HEAD", "POST")),
    ]
    inventory = build_inventory(shop_plan, shop_plan.step("4-catalog"), endpoints)
    assert [row.label for row in inventory.uncovered] == ["/api/wishlist"]
    cart = next(row for row in inventory.rows if row.label == "/api/cart")
    assert cart.undeclared == ("POST",)
    assert "reviews" in {route.name for route in inventory.unmatched_routes}
    assert inventory.moved("monolith") == (2, 0, 3)  # products and product moved, cart not


def test_the_real_urlconf_is_fully_covered_by_the_shop_plan(shop_plan):
    inventory = build_inventory(shop_plan, shop_plan.step("0-monolith"), list(walk_urlconf()))
    assert inventory.uncovered == []
    labels = {row.label for row in inventory.rows}
    assert {"/api/products/<id:product_id>/reviews", "/api/orders/<id:order_id>/pay"} <= labels
    assert inventory.moved("monolith")[0] == 0
    moved, _partly, total = build_inventory(
        shop_plan, shop_plan.step("5-orders"), list(walk_urlconf())
    ).moved("monolith")
    assert 0 < moved < total  # reviews, payments and the admin never leave


def test_listener_options_come_from_the_environment_and_bad_ports_are_refused():
    from strangler.proxy import RenderOptions

    options = RenderOptions.from_env({"PROXY_PORT": "9080", "PROXY_INTERNAL_PORT": "9081"})
    assert (options.public_url, options.internal_url) == (
        "http://127.0.0.1:9080",
        "http://127.0.0.1:9081",
    )
    assert options.served_by
    assert not RenderOptions.from_env({"PROXY_SERVED_BY": "0"}).served_by
    assert RenderOptions.from_env({"PROXY_SERVED_BY": "true"}).served_by
    with pytest.raises(ProxyError, match="PROXY_PORT='http' is not a port number"):
        RenderOptions.from_env({"PROXY_PORT": "http"})


def test_verify_without_the_contract_extra_says_what_to_install(monkeypatch, tmp_path):
    from strangler.proxy import verify

    (tmp_path / verify.CONTRACT_SUITE).mkdir(parents=True)
    monkeypatch.setattr(
        verify, "CONTRACT_RUNNERS", (*verify.CONTRACT_RUNNERS, ("pytest-x", "no_such_module_x"))
    )
    with pytest.raises(ProxyError, match=r"pytest-x is not installed in .*strangler\[contract\]"):
        verify.run_contract_suite(root=tmp_path, base_url="http://127.0.0.1:1")
    assert verify.missing_runners() == ["pytest-x"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PROXY_HOST", "0.0.0.0:80; include /etc/passwd", "PROXY_HOST=.* is not an IP address"),
        ("PROXY_HOST", "a b", "PROXY_HOST=.* is not an IP address or a host name"),
        ("PROXY_INTERNAL_HOST", "127.0.0.1;", "PROXY_INTERNAL_HOST=.* is not an IP address"),
        ("PROXY_INTERNAL_HOST", "fe80::1%eth0;x", "PROXY_INTERNAL_HOST=.* is not an IP"),
        ("PROXY_WORKERS", "2; user root", "PROXY_WORKERS=.* is not 'auto' or a number"),
        ("PROXY_WORKERS", "0", "PROXY_WORKERS='0' is not 'auto' or a number"),
        ("PROXY_WORKERS", "-1", "PROXY_WORKERS='-1'"),
        ("NGINX_MODULES_DIR", "modules", "NGINX_MODULES_DIR='modules' is not an absolute path"),
        ("NGINX_MODULES_DIR", "/usr/lib;\nload_module /x", "NGINX_MODULES_DIR=.* not an abs"),
        ("NGINX_MODULES_DIR", "/a b", "NGINX_MODULES_DIR="),
        ("NGINX_MODULES_DIR", "/a{b}", "NGINX_MODULES_DIR="),
        ("NGINX_MODULES_DIR", "/a'b", "NGINX_MODULES_DIR="),
    ],
)
def test_listener_options_that_could_write_nginx_directives_are_refused(variable, value, message):
    from strangler.proxy import RenderOptions

    with pytest.raises(ProxyError, match=message):
        RenderOptions.from_env({variable: value})


def test_listener_options_take_hosts_names_and_worker_counts():
    from strangler.proxy import RenderOptions

    options = RenderOptions.from_env(
        {
            "PROXY_HOST": "proxy.example.internal",
            "PROXY_INTERNAL_HOST": "::1",
            "PROXY_WORKERS": "auto",
            "NGINX_MODULES_DIR": "/opt/nginx/modules",
        }
    )
    assert options.public_listen == "proxy.example.internal:8080"
    assert options.internal_listen == "[::1]:8081"
    assert options.internal_url == "http://[::1]:8081"
    assert RenderOptions.from_env({"PROXY_WORKERS": "4"}).worker_processes == "4"
    assert RenderOptions.from_env({}).internal_host == "127.0.0.1"
