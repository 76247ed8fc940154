import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from strangler.service.http import ServiceUnavailable, service_client
from strangler.service.request_id import current_request_id


class Backend:
    """Answers with the given statuses in turn and records what it received."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, json={"status": status})


def _client(backend: Backend, name: str, **options) -> httpx.Client:
    return service_client(
        f"http://{name}.test", transport=httpx.MockTransport(backend), backoff_seconds=0, **options
    )


def test_idempotent_requests_are_retried_on_503_until_they_succeed():
    backend = Backend(503, 503, 200)
    assert _client(backend, "retry-get").get("/x").status_code == 200
    assert len(backend.requests) == 3


def test_posts_are_never_retried():
    backend = Backend(503, 200)
    assert _client(backend, "no-retry-post").post("/x").status_code == 503
    assert len(backend.requests) == 1


def test_the_request_id_of_the_current_request_is_passed_on():
    backend = Backend(200)
    token = current_request_id.set("req-42")
    try:
        _client(backend, "request-id").get("/x")
    finally:
        current_request_id.reset(token)
    assert backend.requests[0].headers["X-Request-ID"] == "req-42"


def test_the_circuit_opens_after_repeated_failures_and_then_fails_fast():
    backend = Backend(*([503] * 10))
    client = _client(backend, "breaker", retries=0, failures_to_open=3, reset_seconds=60)
    for _ in range(2):
        assert client.get("/x").status_code == 503
    with pytest.raises(ServiceUnavailable):
        client.get("/x")
    with pytest.raises(ServiceUnavailable):
        client.get("/x")
    assert len(backend.requests) == 3


def test_targets_behind_one_url_have_circuits_of_their_own():
    failing, working = Backend(*([503] * 10)), Backend()
    dead = service_client(
        "http://one.test",
        transport=httpx.MockTransport(failing),
        target="one catalog",
        retries=0,
        failures_to_open=2,
        reset_seconds=60,
    )
    alive = service_client(
        "http://one.test",
        transport=httpx.MockTransport(working),
        target="one orders",
        retries=0,
        failures_to_open=2,
        reset_seconds=60,
    )
    dead.get("/x")
    with pytest.raises(ServiceUnavailable):
        dead.get("/x")

    assert alive.get("/x").status_code == 200


@pytest.fixture
def keepalive_server():
    """A loopback HTTP/1.1 server that keeps connections alive and records each client port."""
    peers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            peers.append(self.client_address[1])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", peers
    server.shutdown()
    server.server_close()


def test_clients_of_one_target_share_one_pool_of_kept_alive_connections(keepalive_server):
    url, peers = keepalive_server
    for _ in range(3):
        with service_client(url) as client:  # a client per call, closed after it
            assert client.get("/").status_code == 200

    assert len(peers) == 3 and len(set(peers)) == 1


def test_a_forked_child_opens_connections_of_its_own(keepalive_server):
    url, peers = keepalive_server
    with service_client(url) as client:
        client.get("/")
    child = os.fork()
    if child == 0:
        with service_client(url) as client:
            os._exit(0 if client.get("/").status_code == 200 else 1)
    _, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert len(set(peers)) == 2
