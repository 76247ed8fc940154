"""The canary on real nginx in front of echo backends: sticky per user by the token's subject,
per anonymous client by the proxy's cookie, the share over many users, the per-backend figures
`strangle status` shows, and the canary analysis that gates leaving the canary step."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from strangler.gates.verdict import Verdicts
from strangler.proxy import ProxyError
from strangler.proxy.accesslog import read_recent
from strangler.proxy.control import Controller
from tests.migration.harness import (
    REPO_ROOT,
    EchoBackend,
    RunningProxy,
    proxy_at,
    shop_plan_gated,
    unsigned_bearer,
)

pytestmark = pytest.mark.integration

CANARY_STEP = "3-catalog-canary"
WEIGHT = 10  # the catalog's share of catalog reads at CANARY_STEP
# The split routes, in the plan's order (the order of the analysis' reasons).
SPLIT_PATHS = {
    "categories": "/api/categories",
    "products": "/api/products",
    "product": "/api/products/1",
}
# The analysis' thresholds these tests are written for, not the shop plan's own (sized for its
# real traffic): 10 reads on each side of a split route in the last 5 minutes, p99s under 10 ms
# counted as 10 ms (the echo backends answer in a few).
GATE = {
    "max_error_rate_increase": 0.01,
    "max_p99_ratio": 1.5,
    "p99_floor_ms": 10,
    "min_requests": 10,
    "window_minutes": 5,
}
COOKIE = re.compile(
    r"^strangler_canary=([0-9a-f]{32}); Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax$"
)
FLUSH_TIMEOUT = 10.0  # nginx flushes its access-log buffer every second


@contextlib.contextmanager
def canary_gated(
    tmp_path: Path, backends: Mapping[str, EchoBackend], gate: Mapping[str, Any]
) -> Iterator[RunningProxy]:
    """The shop's plan with `gate` as its gates.canary, at the canary step, every backend an
    echo server."""
    plan = shop_plan_gated(tmp_path, canary=gate)
    with proxy_at(tmp_path / "var", backends, CANARY_STEP, plan_path=plan) as running:
        yield running


@pytest.fixture
def canary(tmp_path, echo_backends) -> Iterator[RunningProxy]:
    with canary_gated(tmp_path, echo_backends, GATE) as running:
        yield running


def set_cookies(response: httpx.Response, name: str) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}=")]


def canary_cookies(response: httpx.Response) -> list[str]:
    # Not the writer's mark (strangler_wrote), which a write at a split step sets: it keeps
    # the writer on the primary for a moment (test_read_your_writes), whatever its side.
    return set_cookies(response, "strangler_canary")


def assert_share_within_three_points(served: dict[str, str]) -> None:
    share = 100 * sum(backend == "catalog" for backend in served.values()) / len(served)
    assert abs(share - WEIGHT) <= 3, f"the catalog served {share:.1f}% of {len(served)} users"


def test_over_a_thousand_users_the_catalog_serves_its_weight_each_user_always_one_backend(canary):
    served = {}
    with httpx.Client(base_url=canary.public_url) as client:
        for user in range(1000):
            headers = unsigned_bearer(str(user))
            answers = [
                client.get(path, headers=headers)
                for path in (*SPLIT_PATHS.values(), "/api/products/1")
            ]
            backends = {answer.headers["X-Served-By"] for answer in answers}
            assert len(backends) == 1, f"user {user} was served by {backends}"
            served[str(user)] = backends.pop()
            # A user is kept on its side by its token: the proxy sets it no cookie.
            assert not any(canary_cookies(answer) for answer in answers)
        # Writes are never split.
        assert {client.post("/api/products").headers["X-Served-By"] for _ in range(20)} == {
            "monolith"
        }
    assert_share_within_three_points(served)


def test_over_a_thousand_anonymous_clients_each_cookie_keeps_its_client_on_one_backend(canary):
    # Every client here has the same address, as behind one NAT: the share still follows the
    # weight, because each client is keyed by its own cookie.
    served = {}
    with httpx.Client(base_url=canary.public_url) as client:
        for _ in range(1000):
            client.cookies.clear()  # a fresh cookie jar: a new anonymous client
            first = client.get("/api/products")
            (cookie,) = canary_cookies(first)
            client_id = COOKIE.match(cookie).group(1)
            assert client_id not in served, "two clients were given one id"
            again = [client.get(path) for path in (*SPLIT_PATHS.values(), "/api/products")]
            backends = {answer.headers["X-Served-By"] for answer in [first, *again]}
            assert len(backends) == 1, f"client {client_id} was served by {backends}"
            assert not any(canary_cookies(answer) for answer in again)
            served[client_id] = backends.pop()
    assert_share_within_three_points(served)


def test_the_cookie_is_set_only_on_split_reads_and_beside_the_backends_own(canary):
    url = canary.public_url
    # Not on a route the step does not split, nor on writes, which are never split.
    assert not canary_cookies(httpx.get(f"{url}/api/cart"))
    write = httpx.post(f"{url}/api/products")
    assert write.headers["X-Served-By"] == "monolith" and not canary_cookies(write)
    assert set_cookies(write, "strangler_wrote")  # the writer's mark instead
    # The backend's own cookies stay.
    read = httpx.get(f"{url}/api/products?set-cookie=csrftoken")
    backend = read.headers["X-Served-By"]
    assert f"csrftoken={backend}; Path=/" in read.headers.get_list("set-cookie")
    assert len(canary_cookies(read)) == 1
    # An id the proxy did not make is replaced.
    forged = httpx.get(f"{url}/api/products", headers={"Cookie": "strangler_canary=forged"})
    assert COOKIE.match(canary_cookies(forged)[0])
    canary.controller.apply("4-catalog", gated=False)
    assert not canary_cookies(httpx.get(f"{url}/api/products"))


# -- the figures and the analysis --------------------------------------------------------------


def users_on_each_side(canary: RunningProxy) -> dict[str, dict[str, str]]:
    """{backend: a bearer header the split sends to it}, for the catalog and the monolith;
    found by reading /api/products (the other split routes stay untouched)."""
    found: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=canary.public_url) as client:
        for user in range(1000):
            headers = unsigned_bearer(f"probe-{user}")
            backend = client.get("/api/products", headers=headers).headers["X-Served-By"]
            found.setdefault(backend, headers)
            if len(found) == 2:
                return found
    raise AssertionError(f"no user on each side: {found}")


def read_split_routes(
    canary: RunningProxy, users: dict[str, dict[str, str]], *, times: int
) -> None:
    """`times` reads of every split route by each user, eight at a time, each answered 200;
    returns once the access log holds every one of them."""
    mark = uuid.uuid4().hex
    reads = [(path, headers) for headers in users.values() for path in SPLIT_PATHS.values()]
    jobs = [
        (path, {**headers, "X-Request-ID": f"{mark}-{number}"})
        for number, (path, headers) in enumerate(reads * times)
    ]

    with httpx.Client(base_url=canary.public_url) as client, ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda job: client.get(job[0], headers=job[1]).status_code, jobs)
        assert set(answers) == {200}
    # nginx writes its access log from a buffer, flushed every second.
    deadline = time.monotonic() + FLUSH_TIMEOUT
    while True:
        logged = read_recent(canary.site.access_log, minutes=5)
        if sum(entry["request_id"].startswith(mark) for entry in logged) == len(jobs):
            return
        assert time.monotonic() < deadline, "the access log did not get the reads"
        time.sleep(0.2)


def gated(canary: RunningProxy) -> Controller:
    return Controller(canary.site, gate=Verdicts(canary.site, only=("canary",)))


def strangle(canary: RunningProxy, *args: str) -> subprocess.CompletedProcess[str]:
    """The console script, run for this proxy's site, with its default flip hooks."""
    environ = {**os.environ, **canary.env}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "strangler.cli", *args],
        cwd=REPO_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def too_few(seen: int) -> str:
    """A regular expression: the one reason to refuse while each side of every split route
    served `seen` reads, fewer than GATE's 10. Products' counts vary: finding the users read it
    too, always once on the side found last (so it stays under 10 for `seen` under 9)."""
    both = f"catalog served {seen} and monolith served {seen}"
    return (
        re.escape(f"too few requests to judge catalog: on categories {both}; ")
        + r"on products (?:catalog|monolith) served \d+(?: and monolith served \d+)?; "
        + re.escape(
            f"on product {both} in the last 5 min at {CANARY_STEP}, fewer than 10 on each side "
            "of at least one split route (gates.canary.min_requests)"
        )
    )


def test_status_shows_each_split_backends_requests_5xx_rate_and_p99_and_the_analysis(
    canary, echo_backends
):
    users = users_on_each_side(canary)
    # The catalog fails; the fallback answers its users from the monolith, and the failures
    # still count against the catalog.
    echo_backends["catalog"].failing = 503
    read_split_routes(canary, users, times=5)
    result = strangle(canary, "status", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    routes = {route["route"]: route for route in data["routes"]}
    split = {member["backend"]: member for member in routes["categories"]["split"]}
    assert {name: member["weight"] for name, member in split.items()} == {
        "monolith": 90,
        "catalog": 10,
    }
    catalog, monolith = split["catalog"]["traffic"], split["monolith"]["traffic"]
    assert (catalog["requests"], catalog["errors"], catalog["error_rate"]) == (5, 5, 1.0)
    assert (monolith["requests"], monolith["errors"], monolith["error_rate"]) == (5, 0, 0.0)
    assert catalog["p99_ms"] is not None and monolith["p99_ms"] is not None
    # Who answered the clients: the monolith, every time.
    assert list(routes["categories"]["via"]) == ["monolith"]
    assert routes["categories"]["via"]["monolith"]["requests"] == 10
    assert [name for name, route in routes.items() if route["split"]] == list(SPLIT_PATHS)
    canary_verdict = data["canary"]
    # Too few reads to judge any route, the catalog's failures notwithstanding.
    assert {k: v for k, v in canary_verdict.items() if k not in ("reasons", "summary")} == {
        "step": CANARY_STEP,
        "next": "4-catalog",
        "minutes": 5.0,
        "passed": False,
    }
    assert canary_verdict["reasons"] == [canary_verdict["summary"]]
    assert re.fullmatch(too_few(5), canary_verdict["summary"]), canary_verdict["summary"]

    text = strangle(canary, "status")
    assert text.returncode == 0, text.stderr
    assert re.search(r"split catalog 10% +5 +100\.0% +\d+ms", text.stdout), text.stdout
    assert re.search(r"split monolith 90% +5 +0\.0% +\d+ms", text.stdout), text.stdout
    heading = re.escape(f"Canary analysis for 4-catalog (last 5 min at {CANARY_STEP}): ")
    assert re.search(f"^{heading}{too_few(5)}$", text.stdout, re.MULTILINE), text.stdout


def test_apply_of_the_next_step_refuses_in_one_line_while_too_few_requests_were_seen(canary):
    read_split_routes(canary, users_on_each_side(canary), times=3)
    # The console script with its verdict: the analysis refuses before any handover.
    result = strangle(canary, "apply", "4-catalog")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("strangle: 4-catalog cannot flip, nothing was changed: "), line
    assert re.search(f"; canary: {too_few(3)}(;|$)", line), line
    assert canary.controller.admin().live().step == CANARY_STEP


def test_a_canary_failing_behind_the_fallback_is_refused_for_its_5xx_rate(canary, echo_backends):
    users = users_on_each_side(canary)
    echo_backends["catalog"].failing = 502
    read_split_routes(canary, users, times=50)
    with pytest.raises(ProxyError) as refused:
        gated(canary).apply("4-catalog")
    # (Its p99 may be refused too: every read it failed took two tries.)
    assert str(refused.value).startswith(
        "4-catalog cannot flip, nothing was changed: canary: catalog's 5xx rate on categories "
        "is 100.0%, more than monolith's 0.0% + 1 points (gates.canary.max_error_rate_increase)"
    )
    assert canary.controller.admin().live().step == CANARY_STEP


def test_a_canary_much_slower_than_the_primary_is_refused_for_its_p99(canary, echo_backends):
    users = users_on_each_side(canary)
    # 300 ms against the monolith's few: only a monolith p99 over 200 ms could let it pass.
    echo_backends["catalog"].delay = 0.3
    read_split_routes(canary, users, times=50)
    with pytest.raises(ProxyError, match=r": canary: catalog's p99 on categories is "):
        gated(canary).apply("4-catalog")
    assert canary.controller.admin().live().step == CANARY_STEP


def test_a_canary_with_enough_clean_reads_is_promoted(tmp_path, echo_backends):
    # The echo backends answer in a few milliseconds, where a p99 is noise: a floor of 1 s
    # keeps latency out of this verdict (the refusal above covers it).
    with canary_gated(tmp_path, echo_backends, {**GATE, "p99_floor_ms": 1000}) as canary:
        read_split_routes(canary, users_on_each_side(canary), times=50)
        assert gated(canary).apply("4-catalog").step == "4-catalog"


def test_moving_back_from_the_canary_is_never_judged(canary):
    controller = gated(canary)  # no traffic at all: any promotion would be refused
    assert controller.apply("2-catalog-shadow").step == "2-catalog-shadow"
    assert controller.apply(CANARY_STEP).step == CANARY_STEP  # from a step with no split
    assert controller.rollback().step == "2-catalog-shadow"
    controller.apply(CANARY_STEP)
    with pytest.raises(ProxyError, match=r": canary: too few requests"):
        controller.apply("5-orders")  # skipping ahead promotes the canary too
