"""The trace context on a backend: a request served inside the trace its traceparent names
(or a new one), its trace id on every log line, passed on to every call to another backend;
spans exported only when an OTLP endpoint is configured."""

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace

from strangler.service import tracing
from strangler.service.http import service_client

REPO_ROOT = Path(__file__).resolve().parents[3]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


class Lines(logging.Handler):
    """Records the access log's records through the chassis' trace id filter."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(tracing.TraceIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_lines():
    handler = Lines()
    logger = logging.getLogger("strangler.access")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def test_the_log_line_of_a_request_carries_the_trace_id_of_its_traceparent(client, access_lines):
    client.get("/healthz", HTTP_TRACEPARENT=TRACEPARENT)
    (line,) = access_lines
    assert (line.trace_id, line.span_id) == (TRACE_ID, "00f067aa0ba902b7")


def test_a_request_without_a_valid_traceparent_gets_a_trace_of_its_own(client, access_lines):
    client.get("/healthz")
    client.get("/healthz", HTTP_TRACEPARENT=f"00-{'0' * 32}-00f067aa0ba902b7-01")
    first, second = (line.trace_id for line in access_lines)
    assert len(first) == 32 and first != "0" * 32 and first != second


def test_no_trace_outside_a_request_and_no_sdk_without_an_endpoint(client):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "outside", None, None)
    tracing.TraceIdFilter().filter(record)
    assert record.trace_id is None
    assert not tracing.exporting()
    assert "opentelemetry.sdk.trace" not in sys.modules


def test_a_call_to_another_backend_passes_the_trace_on():
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    parent = trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id=int(TRACE_ID, 16),
            span_id=0x00F067AA0BA902B7,
            is_remote=True,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
    )
    client = service_client("http://traced.test", transport=httpx.MockTransport(backend))
    with trace.use_span(parent):
        client.get("/internal/x")
    assert seen[0].headers["traceparent"] == TRACEPARENT


@pytest.mark.integration
def test_with_an_otlp_endpoint_each_request_is_a_span_exported_in_its_trace(tmp_path):
    received: list[bytes] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
    script = f"""
import django
django.setup()
from django.test import Client
from opentelemetry import trace
Client().get("/healthz", HTTP_TRACEPARENT={TRACEPARENT!r})
trace.get_tracer_provider().shutdown()  # flushes the batch
"""
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env={
                **os.environ,
                "PYTHONPATH": "monolith:domains:.",
                "DJANGO_SETTINGS_MODULE": "shop.settings",
                "SHOP_VAR_DIR": str(tmp_path),
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
                "OTEL_SERVICE_NAME": "monolith-under-test",
            },
            capture_output=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr.decode()
    # OTLP/HTTP protobuf: the trace id as its 16 raw bytes, the span name and the service.
    (body,) = received
    assert bytes.fromhex(TRACE_ID) in body
    assert b"GET /healthz" in body and b"monolith-under-test" in body
    line = next(
        json.loads(text)
        for text in done.stderr.decode().splitlines()
        if text.startswith("{") and '"strangler.access"' in text
    )
    assert line["trace_id"] == TRACE_ID and line["span_id"] != "00f067aa0ba902b7"
