import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from bench.open_loop import OpenLoopLoad, run_open_loop


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 400 if body["n"] % 4 == 3 else 201
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_open_loop_sends_rate_times_duration_requests_and_counts_unexpected_statuses(
    server_url: str,
) -> None:
    result = run_open_loop(
        base_url=server_url,
        load=OpenLoopLoad(rate=40, duration_s=0.5, workers=4),
        request=lambda n: ("POST", "/register", {"n": n}, 201),
    )
    assert result.offered == 20
    assert result.succeeded == 15
    assert result.errors == 5
    assert len(result.latencies_ms) == 15
    assert result.error_samples[0].startswith("400")
    assert result.wall_s >= 0.45


def test_a_refused_connection_is_an_error_not_a_crash() -> None:
    result = run_open_loop(
        base_url="http://127.0.0.1:9",
        load=OpenLoopLoad(rate=100, duration_s=0.03, workers=2, timeout_s=1),
        request=lambda n: ("POST", "/register", {}, 201),
    )
    assert result.offered == 3
    assert result.errors == 3
    assert result.succeeded == 0
