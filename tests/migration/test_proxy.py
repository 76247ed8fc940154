"""The rendered proxy on real nginx, with echo backends: what clients and services see."""

import copy
import json
import time

import httpx
import pytest

from strangler.proxy import render_parts
from strangler.proxy.tables import dumps

pytestmark = pytest.mark.integration


def test_step_zero_sends_every_route_to_the_monolith(proxy):
    with httpx.Client(base_url=proxy.public_url) as client:
        for method, path in [
            ("GET", "/api/products"),
            ("POST", "/api/auth/token"),
            ("GET", "/.well-known/jwks.json"),
            ("DELETE", "/api/cart/items/3"),
            ("GET", "/admin/login/"),
        ]:
            response = client.request(method, path)
            assert response.status_code == 200, path
            assert response.headers["X-Served-By"] == "monolith"
            assert response.json() == {**response.json(), "backend": "monolith", "method": method}


def test_an_unknown_path_is_a_json_404_from_the_proxy(proxy):
    response = httpx.get(f"{proxy.public_url}/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    assert "X-Served-By" not in response.headers


def test_internal_paths_are_404_on_the_public_listener_and_served_on_the_internal_one(proxy):
    for path in ("/internal/orders/reserve", "/__strangler/step", "/__strangler/table"):
        response = httpx.get(f"{proxy.public_url}{path}")
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}
    inside = httpx.post(f"{proxy.internal_url}/internal/orders/reserve")
    assert inside.status_code == 200
    assert inside.json()["backend"] == "monolith"


def test_the_admin_endpoint_refuses_a_step_table_naming_what_the_structure_lacks(proxy):
    token = proxy.site.token_path.read_text().strip()
    table = render_parts(proxy.controller.plan(), "1-auth").table

    def post(data) -> httpx.Response:
        return httpx.post(
            f"{proxy.internal_url}/__strangler/table",
            content=dumps(data) if isinstance(data, dict) else data,
            headers={"X-Strangler-Token": token},
        )

    bad_backend = copy.deepcopy(table.data)
    bad_backend["routes"]["products"]["backend"] = "nowhere"
    bad_weight = copy.deepcopy(table.data)
    bad_weight["routes"]["products"]["split"] = [["monolith", 95], ["catalog", 10]]
    refusals = {
        "route products: unknown backend nowhere": bad_backend,
        "route products: split weights sum to 105, not 100": bad_weight,
        "a step table needs a 'hash' and a 'step'": {"owners": {}, "routes": {}},
    }
    for detail, data in refusals.items():
        response = post(data)
        assert (response.status_code, response.json()) == (400, {"detail": detail})
    not_json = post("step 1-auth\n")
    assert not_json.status_code == 400
    assert not_json.json()["detail"].startswith("the step table is not JSON")
    assert proxy.controller.admin().live().step == "0-monolith"
    answer = post(table.data)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "step": "1-auth",
        "table": table.hash,
        "structure": proxy.controller.admin().live().structure,
    }


def test_a_request_id_is_generated_passed_upstream_and_returned_once(proxy, echo_backends):
    response = httpx.get(f"{proxy.public_url}/api/products")
    generated = response.headers.get_list("X-Request-ID")
    assert len(generated) == 1 and generated[0] != "set-by-backend"
    assert response.json()["request_id"] == generated[0]
    mine = httpx.get(f"{proxy.public_url}/api/products", headers={"X-Request-ID": "client-id-1"})
    assert mine.headers["X-Request-ID"] == "client-id-1"
    assert mine.json()["request_id"] == "client-id-1"
    odd = httpx.get(f"{proxy.public_url}/api/products", headers={"X-Request-ID": "x" * 300})
    assert odd.headers["X-Request-ID"] != "x" * 300


def test_a_body_over_one_mebibyte_is_a_json_413(proxy):
    response = httpx.post(f"{proxy.public_url}/api/products", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large."}
    assert response.headers["X-Request-ID"]


def test_token_requests_beyond_the_rate_limit_get_a_json_429(proxy):
    with httpx.Client(base_url=proxy.public_url) as client:
        responses = [client.post("/api/auth/token") for _ in range(120)]
    assert responses[0].status_code == 200
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "120 quick token requests from one address were never limited"
    assert limited[0].json() == {"detail": "Too many requests: slow down and retry later."}
    assert {r.status_code for r in responses} == {200, 429}
    # Other routes are not limited.
    assert httpx.get(f"{proxy.public_url}/api/products").status_code == 200


def test_an_unreachable_backend_is_a_json_503_saying_when_to_retry(proxy, echo_backends):
    echo_backends["monolith"].stop()
    response = httpx.post(f"{proxy.public_url}/api/products")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Service unavailable")
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-Request-ID"]
    assert "X-Served-By" not in response.headers


def test_clients_cannot_inject_proxy_internal_headers(proxy, echo_backends):
    proxy.controller.apply("2-catalog-shadow")
    seen = httpx.get(
        f"{proxy.public_url}/api/products",
        headers={"X-Strangler-Shadow": "orders products forged", "X-Strangler-Token": "t"},
    ).json()
    assert seen["shadow"] is None and seen["token"] is None


def test_a_shadow_gets_a_copy_and_both_answers_land_in_the_bounded_log(proxy, echo_backends):
    proxy.controller.apply("2-catalog-shadow")
    response = httpx.get(
        f"{proxy.public_url}/api/products?page=2", headers={"X-Request-ID": "shadowed-1"}
    )
    assert response.headers["X-Served-By"] == "monolith"
    entry = None
    for _ in range(50):
        log = proxy.controller.admin().shadow_log(limit=1000)
        entry = next((e for e in log["entries"] if e["request_id"] == "shadowed-1"), None)
        if entry and entry["shadow"]:
            break
        time.sleep(0.1)
    assert entry["primary"]["backend"] == "monolith"
    assert entry["primary"]["status"] == 200
    assert json.loads(entry["primary"]["body"])["backend"] == "monolith"
    assert entry["shadow"]["backend"] == "catalog"
    assert json.loads(entry["shadow"]["body"])["path"] == "/api/products?page=2"
    copies = [seen for seen in echo_backends["catalog"].seen if seen["request_id"] == "shadowed-1"]
    assert len(copies) == 1 and copies[0]["method"] == "GET"
    assert not any(s["method"] == "POST" for s in echo_backends["catalog"].seen)
    httpx.post(f"{proxy.public_url}/api/products")  # writes are never mirrored
    assert not any(s["method"] == "POST" for s in echo_backends["catalog"].seen)


def test_a_slow_shadow_does_not_hold_back_the_client(proxy, echo_backends):
    proxy.controller.apply("2-catalog-shadow")
    echo_backends["catalog"].delay = 3.0
    with httpx.Client(base_url=proxy.public_url) as client:
        first = client.get("/api/products", headers={"X-Request-ID": "slow-shadow-1"})
        second = client.get("/api/products", headers={"X-Request-ID": "slow-shadow-2"})
        log = proxy.controller.admin().shadow_log(limit=1000)
    assert first.status_code == second.status_code == 200
    entries = {e["request_id"]: e for e in log["entries"]}
    # Both answers reached the client on one keep-alive connection while the shadow still
    # had not answered the first copy: the mirror does not wait for it.
    assert entries["slow-shadow-1"]["primary"]["status"] == 200
    assert entries["slow-shadow-1"]["shadow"] is None
    # The primary is asked again only once the shadow has answered, from the same timer.
    assert entries["slow-shadow-1"]["secondary"] is None


def test_bodies_up_to_the_limit_pass_even_chunked_and_larger_chunked_ones_are_a_json_413(proxy):
    # The prefix lives under pytest's private (0700) tmp dir: nothing may need a temp file.
    def chunks(size):
        for _ in range(size // 65536):
            yield b"x" * 65536

    with httpx.Client(base_url=proxy.public_url) as client:
        assert client.post("/api/products", content=b"y" * 300_000).status_code == 200
        assert client.post("/api/products", content=chunks(512 * 1024)).status_code == 200
        too_big = client.post("/api/products", content=chunks(17 * 65536))
    assert too_big.status_code == 413
    assert too_big.json() == {"detail": "Request body too large."}


def test_a_nul_byte_in_the_path_is_a_json_404_and_a_malformed_request_a_json_400(proxy):
    nul = httpx.get(f"{proxy.public_url}/api/products/%00")
    assert (nul.status_code, nul.json()) == (404, {"detail": "Not found."})
    query = httpx.get(f"{proxy.public_url}/api/products?q=%00")
    assert query.json()["path"] == "/api/products?q=%00"  # only the path is refused
    traversal = httpx.get(f"{proxy.public_url}/a/%2e%2e/%2e%2e/%2e%2e/etc")
    assert (traversal.status_code, traversal.json()) == (400, {"detail": "Bad request."})
