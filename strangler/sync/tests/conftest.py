"""The sync machinery is exercised inside the example monolith, whose users are synced."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from strangler.conf import strangler_settings

# (method, path, headers, body) -> (status, JSON answer)
Answer = Callable[[str, str, dict, bytes], tuple[int, object]]


@pytest.fixture
def api() -> APIClient:
    """A client that presents the internal token, as the CLI and the other backends do."""
    return APIClient(HTTP_X_INTERNAL_TOKEN=strangler_settings.INTERNAL_TOKEN)


@pytest.fixture
def fake_auth_backend(settings):
    """Starts a real HTTP server on loopback that answers as `answer` says, and makes it the
    `auth` backend (or the one named) of this process; yields the starter."""
    servers = []

    def start(answer: Answer, *, backend: str = "auth") -> None:
        class Handler(BaseHTTPRequestHandler):
            def _respond(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = answer(self.command, self.path, dict(self.headers), body)
                encoded = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            do_GET = do_POST = _respond

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll: shutting the server down at teardown waits up to one poll.
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        settings.STRANGLER_BACKEND_URLS = {
            **strangler_settings.BACKEND_URLS,
            backend: f"http://127.0.0.1:{server.server_port}",
        }

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
