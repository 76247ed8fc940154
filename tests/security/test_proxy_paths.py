"""Attacks on the proxy's paths, against real nginx and echo backends: no spelling of an
internal or admin path reaches a backend through the public listener, and the internal
listener's probe, admin endpoint and shadow log answer only the admin token."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.migration.harness import EchoBackend, RunningProxy, echo_backends, proxy_at

pytestmark = pytest.mark.integration


# Spellings of /internal/... and /__strangler/... a backend (or nginx) could decode or normalise
# into the real thing. Sent as they are: an HTTP client library would normalise some of them.
HOSTILE_PATHS = [
    "/internal/orders/reserve",
    "/%69nternal/orders/reserve",
    "/%69%6e%74%65%72%6e%61%6c/orders/reserve",
    "/internal%2Forders%2Freserve",
    "/internal%2forders/reserve",
    "//internal/orders/reserve",
    "///internal/orders/reserve",
    "/./internal/orders/reserve",
    "/internal/./orders/reserve",
    "/api/../internal/orders/reserve",
    "/api/products/../../internal/orders/reserve",
    "/api/%2e%2e/internal/orders/reserve",
    "/api/%2E%2E/internal/orders/reserve",
    "/api/.%2e/internal/orders/reserve",
    "/api/products/..%2F..%2Finternal/orders/reserve",
    "/api/products%2F..%2F..%2Finternal%2Forders%2Freserve",
    "/api/products/%2e%2e%2f%2e%2e%2finternal/orders/reserve",
    "/admin/../internal/orders/reserve",
    "/admin/..;/internal/orders/reserve",
    "/admin/%2e%2e/internal/orders/reserve",
    "/admin//internal/orders/reserve",
    "/admin/..",
    "/api/products/.",
    "/__strangler/step",
    "/__strangler/table",
    "/__strangler/shadow",
    "/__strangler/mirror",
    "/%5f%5fstrangler/shadow",
    "/%5F_strangler/step",
    "/__strangler%2Fstep",
    "//__strangler/step",
    "/./__strangler/shadow",
    "/api/../__strangler/step",
    "/api/%2e%2e/__strangler/shadow",
    "/internal/orders/reserve%00",
    "/internal/orders/reserve?x=/../",
]


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, EchoBackend]]:
    with echo_backends() as backends:
        yield backends


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, echo) -> Iterator[RunningProxy]:
    with proxy_at(tmp_path_factory.mktemp("proxy") / "var", echo, "5-orders") as running:
        yield running


def raw(url: str, target: str, *, method: str = "GET", headers: dict[str, str] | None = None):
    """(status, headers, body) of one request sent byte for byte as given (HTTP/1.0: the answer
    ends with the connection, never chunked)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    lines = [f"{method} {target} HTTP/1.0", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    with socket.create_connection((host.strip("[]"), int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    answer_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        answer_headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), answer_headers, body


def seen_paths(echo: dict[str, EchoBackend]) -> list[str]:
    return [seen["path"] for backend in echo.values() for seen in backend.seen]


@pytest.mark.parametrize("target", HOSTILE_PATHS)
def test_no_spelling_of_an_internal_or_admin_path_passes_the_public_listener(proxy, echo, target):
    before = len(seen_paths(echo))
    status, headers, body = raw(proxy.public_url, target)
    assert seen_paths(echo)[before:] == [], target
    assert 400 <= status < 500, (target, status, body)
    assert headers["content-type"] == "application/json"
    assert set(json.loads(body)) == {"detail"}
    assert headers["x-content-type-options"] == "nosniff"


def test_an_absolute_form_request_line_gets_no_further(proxy, echo):
    before = len(seen_paths(echo))
    for target in ("http://shop/internal/orders/reserve", "http://shop/api/../internal/x"):
        status, _, _ = raw(proxy.public_url, target)
        assert 400 <= status < 500, target
    assert seen_paths(echo)[before:] == []


def test_the_raw_path_check_also_guards_the_internal_listener(proxy, echo):
    before = len(seen_paths(echo))
    status, _, body = raw(proxy.internal_url, "/internal/orders/%2e%2e/reserve", method="POST")
    assert status == 400 and "detail" in json.loads(body)
    assert seen_paths(echo)[before:] == []


def test_ordinary_paths_still_reach_their_backend(proxy, echo):
    status, _, body = raw(proxy.public_url, "/api/products?next=//x/../%2F")
    assert status == 200, body
    assert json.loads(body)["path"] == "/api/products?next=//x/../%2F"
    assert raw(proxy.public_url, "/.well-known/jwks.json")[0] == 200
    status, _, body = raw(proxy.internal_url, "/internal/orders/reserve", method="POST")
    assert status == 200 and json.loads(body)["backend"] == "orders"


# -- the internal listener's own endpoints -----------------------------------------------------

ADMIN_ENDPOINTS = [
    ("GET", "/__strangler/step"),
    ("GET", "/__strangler/shadow"),
    ("DELETE", "/__strangler/shadow"),
    ("POST", "/__strangler/table"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ENDPOINTS)
@pytest.mark.parametrize("token", [None, "", "wrong", " "], ids=["none", "empty", "wrong", "blank"])
def test_the_probe_the_admin_endpoint_and_the_shadow_log_want_the_token(proxy, method, path, token):
    headers = {} if token is None else {"X-Strangler-Token": token}
    status, answer_headers, body = raw(proxy.internal_url, path, method=method, headers=headers)
    assert status == 403, body
    assert json.loads(body) == {"detail": "Missing or wrong X-Strangler-Token."}
    assert answer_headers["x-content-type-options"] == "nosniff"


def test_the_token_opens_the_probe_and_the_shadow_log(proxy):
    token = proxy.site.token_path.read_text().strip()
    headers = {"X-Strangler-Token": token}
    probe = httpx.get(f"{proxy.internal_url}/__strangler/step", headers=headers)
    assert probe.status_code == 200 and probe.json()["step"] == "5-orders"
    log = httpx.get(f"{proxy.internal_url}/__strangler/shadow", headers=headers)
    assert log.status_code == 200 and "entries" in log.json()


class EmptyTokenProxy(RunningProxy):
    """A proxy whose token file holds an empty line: started, it is seen by any answer."""

    def _wait_started(self) -> bool:
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                httpx.get(f"{self.internal_url}/__strangler/step", timeout=1)
                return True
            except httpx.HTTPError:
                time.sleep(0.1)
        return False


@pytest.mark.parametrize("line", [b"\n", b"", b"  \r\n"], ids=["newline", "empty", "blank"])
def test_an_empty_token_line_lets_nobody_in(tmp_path: Path, echo, line: bytes):
    var = tmp_path / "var"
    token_path = var / "nginx" / "conf" / "admin.token"
    token_path.parent.mkdir(parents=True)
    token_path.write_bytes(line)
    urls = {name: backend.url for name, backend in echo.items()}
    with EmptyTokenProxy(var, backends=urls) as running:
        assert token_path.read_bytes() == line  # `strangle up` kept it
        for method, path in ADMIN_ENDPOINTS:
            for headers in ({"X-Strangler-Token": ""}, {"X-Strangler-Token": " "}, {}):
                status, _, _ = raw(running.internal_url, path, method=method, headers=headers)
                assert status == 403, (path, headers)
