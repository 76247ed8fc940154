"""A flood of registrations (each costs the backend a password hash) from one client is
answered 429 JSON by the proxy itself; behind a trusted load balancer each client gets its
own limit. Real nginx rendering the shipped plan, echo backends."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.migration.harness import EchoBackend, RunningProxy

pytestmark = pytest.mark.integration

FLOOD = 150
PROXY_DETAIL = {"detail": "Too many requests: slow down and retry later."}


@pytest.fixture
def echo_backends() -> Iterator[dict[str, EchoBackend]]:
    with EchoBackend("monolith") as monolith, EchoBackend("auth") as auth:
        yield {"monolith": monolith, "auth": auth}


@pytest.fixture
def balanced_proxy(tmp_path, echo_backends) -> Iterator[RunningProxy]:
    """The shipped plan behind a load balancer on loopback (PROXY_TRUSTED_PROXIES)."""
    urls = {name: backend.url for name, backend in echo_backends.items()}
    env = {"PROXY_TRUSTED_PROXIES": "127.0.0.1/32"}
    with RunningProxy(tmp_path / "var", backends=urls, env=env) as running:
        yield running


def flood(base_url: str, path: str, headers: dict[str, str] | None = None) -> list[httpx.Response]:
    body = {"email": "x@example.com", "password": "long-enough-1", "name": "X"}
    with (
        httpx.Client(base_url=base_url, timeout=30) as client,
        ThreadPoolExecutor(max_workers=16) as pool,
    ):
        return list(pool.map(lambda _: client.post(path, json=body, headers=headers), range(FLOOD)))


def test_a_registration_flood_from_one_client_is_answered_429_json(balanced_proxy, echo_backends):
    responses = flood(balanced_proxy.public_url, "/api/auth/register")
    limited = [r for r in responses if r.status_code == 429]
    assert {r.status_code for r in responses} == {200, 429}
    # The plan lets a burst of 50 through (a team signing up together), then 5 a second.
    assert len(limited) >= FLOOD - 70, f"only {len(limited)} of {FLOOD} were limited"
    assert all(r.json() == PROXY_DETAIL for r in limited)
    assert all(r.headers["Content-Type"] == "application/json" for r in limited)
    registered = [s for s in echo_backends["monolith"].seen if s["path"] == "/api/auth/register"]
    assert len(registered) == FLOOD - len(limited)


def test_each_client_behind_a_trusted_balancer_has_its_own_limit(balanced_proxy):
    for n in range(3):
        # The balancer (a trusted address) appends the client's: each is limited on its own.
        responses = flood(
            balanced_proxy.public_url,
            "/api/auth/register",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        assert sum(r.status_code == 200 for r in responses) >= 20, n


def test_the_admin_login_form_is_rate_limited(balanced_proxy):
    responses = flood(balanced_proxy.public_url, "/admin/login/")
    assert sum(r.status_code == 429 for r in responses) >= FLOOD - 30
