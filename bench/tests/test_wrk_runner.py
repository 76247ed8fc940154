import http.server
import threading
from collections.abc import Iterator

import pytest

from bench.wrk_runner import WrkError, WrkLoad, parse_result, run_wrk

OUTPUT = """Running 10s test @ http://127.0.0.1:1/
BENCH_THREAD_DONE
BENCH_RESULT {"requests": 500, "duration_us": 2500000, "errors": {"connect": 0, "read": 2, \
"write": 0, "status": 3, "timeout": 0}, "latency_us": {"p50": 12500, "p90": 30000, \
"p99": 48000, "p999": 51000, "mean": 15000.0, "max": 52000}}
"""


def test_parse_result_turns_the_lua_summary_into_rates_and_milliseconds() -> None:
    result = parse_result(scenario="GET /api/products", output=OUTPUT)
    assert result.requests == 500
    assert result.requests_per_s == 200.0
    assert (result.p50_ms, result.p99_ms, result.p999_ms) == (12.5, 48.0, 51.0)
    assert result.errors == 5
    assert result.notes == "errors: read 2, status 3"


def test_parse_result_fails_loudly_when_wrk_printed_no_summary() -> None:
    with pytest.raises(WrkError, match="no result line"):
        parse_result(scenario="x", output="Running 10s test\n")


class QuietHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.path.encode()
        self.send_response(200 if self.path != "/api/products/missing" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_wrk_stops_at_the_request_cap_long_before_its_duration(loopback_server: str) -> None:
    # A 300 s duration would outlast the test's timeout: only the request cap can end this run.
    load = WrkLoad(threads=2, connections=2, duration_s=300, max_requests=40)
    result = run_wrk(scenario="capped", url=loopback_server, load=load)
    assert 40 <= result.requests <= 40 + load.connections
    assert result.errors == 0


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_a_paced_connection_sends_at_most_one_request_per_pause(loopback_server: str) -> None:
    # Unpaced, one connection sends thousands of requests to this server in 2 s.
    load = WrkLoad(threads=1, connections=1, duration_s=2, max_requests=10_000, pause_ms=250)
    result = run_wrk(scenario="paced", url=loopback_server, load=load)
    assert 1 <= result.requests <= 2 * 1000 // 250 + 1
    assert result.errors == 0


@pytest.mark.integration
@pytest.mark.timeout(60)
def test_wrk_counts_error_statuses_and_draws_paths_from_the_ids_file(
    loopback_server: str, tmp_path
) -> None:
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("missing\n")
    load = WrkLoad(threads=1, connections=1, duration_s=300, max_requests=10)
    result = run_wrk(
        scenario="ids",
        url=loopback_server,
        load=load,
        path_template="/api/products/%s",
        ids_file=ids_file,
    )
    assert result.requests >= 10
    assert result.errors == result.requests
    assert "status" in result.notes
