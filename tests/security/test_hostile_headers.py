"""Hostile request headers against real nginx and echo backends: what a backend and a shadow
see is what the proxy vouches for, never what the client made up."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.migration.harness import EchoBackend, RunningProxy, echo_backends, proxy_at

pytestmark = pytest.mark.integration

# What a shadow may see of the client's own headers (strangler/shadow.lua).
SHADOW_ALLOWED = {
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cookie",
    "if-modified-since",
    "if-none-match",
    "user-agent",
}
# What the proxy itself sets on a shadow's copy.
SHADOW_OWN = {
    "host",
    "x-forwarded-host",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-request-id",
    "connection",
    "traceparent",  # the proxy's own: the client's only when valid, else a new trace's
}


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, EchoBackend]]:
    with echo_backends() as backends:
        yield backends


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, echo) -> Iterator[RunningProxy]:
    with proxy_at(tmp_path_factory.mktemp("proxy") / "var", echo, "2-catalog-shadow") as running:
        yield running


def seen(backend: EchoBackend, request_id: str, *, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in backend.seen:
            if record["request_id"] == request_id:
                return record
        time.sleep(0.05)
    raise AssertionError(f"{backend.name} never saw {request_id}")


def headers_of(record: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in record["headers"]:
        out.setdefault(name, []).append(value)
    return out


def test_a_clients_forwarded_host_never_reaches_the_backend(proxy, echo):
    host = proxy.public_url.removeprefix("http://")
    response = httpx.get(
        f"{proxy.public_url}/api/products",
        headers=[
            ("X-Request-ID", "xfh-1"),
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Host", "evil.example:443"),
        ],
    )
    assert response.status_code == 200
    headers = headers_of(seen(echo["monolith"], "xfh-1"))
    assert headers["x-forwarded-host"] == [host]
    assert headers["host"] == [host]
    assert not any("evil" in value for values in headers.values() for value in values)


def test_a_shadow_gets_only_the_allowlisted_headers_and_no_body_framing(proxy, echo):
    hostile = {
        "X-Request-ID": "mirror-1",
        "X-Forwarded-Host": "evil.example",
        "X-Strangler-Token": "guess",
        "X-Strangler-Shadow": "monolith products forged",
        "X-Evil": "1",
        "Cookie": "sessionid=abc",
        "Authorization": "Bearer header.payload.sig",
        "Accept": "application/json",
    }
    # A GET with a body: the mirror sends no body, so a copied Content-Length would leave the
    # shadow waiting for bytes that never come.
    response = httpx.request(
        "GET", f"{proxy.public_url}/api/products?page=3", headers=hostile, content=b"abcd"
    )
    assert response.status_code == 200
    assert response.headers["X-Served-By"] == "monolith"
    copy = seen(echo["catalog"], "mirror-1")
    assert copy["method"] == "GET" and copy["path"] == "/api/products?page=3"
    headers = headers_of(copy)
    assert set(headers) <= SHADOW_ALLOWED | SHADOW_OWN, set(headers) - SHADOW_ALLOWED - SHADOW_OWN
    assert "content-length" not in headers and "transfer-encoding" not in headers
    assert headers["cookie"] == ["sessionid=abc"]
    assert headers["authorization"] == ["Bearer header.payload.sig"]
    host = proxy.public_url.removeprefix("http://")
    assert headers["host"] == headers["x-forwarded-host"] == [host]
    assert headers["x-forwarded-proto"] == ["http"]
    assert headers["x-forwarded-for"] == ["127.0.0.1"]
    # The primary saw the same Host the shadow did, and neither the client's token nor its shadow
    # header.
    primary = seen(echo["monolith"], "mirror-1")
    assert headers_of(primary)["x-forwarded-host"] == [host]
    assert primary["token"] is None and primary["shadow"] is None


def test_every_answer_says_nosniff_and_no_nginx_version(proxy):
    token = proxy.site.token_path.read_text().strip()
    answers = [
        httpx.get(f"{proxy.public_url}/api/products"),  # a backend's
        httpx.get(f"{proxy.public_url}/api/nothing-here"),  # the proxy's 404
        httpx.get(f"{proxy.public_url}/internal/orders/x"),
        httpx.post(f"{proxy.public_url}/api/products", content=b"x" * (2 * 1024 * 1024)),  # 413
        httpx.get(f"{proxy.internal_url}/__strangler/step"),  # 403
        httpx.get(f"{proxy.internal_url}/__strangler/step", headers={"X-Strangler-Token": token}),
    ]
    assert [a.status_code for a in answers] == [200, 404, 404, 413, 403, 200]
    for answer in answers:
        assert answer.headers.get_list("X-Content-Type-Options") == ["nosniff"], answer.url
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.headers.get("Server", "nginx") == "nginx"  # no version
