"""A backend's gunicorn, with deploy/gunicorn.conf.py, answers the requests it refuses itself
(before the application sees them) in the backends' JSON error shape, not as an HTML page."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.migration.harness import free_port

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
# gunicorn's default limit_request_field_size is 8190 bytes.
OVERSIZED_HEADER = "X-Big: " + "a" * 9000


def application(environ, start_response):
    """What gunicorn serves here: any request that reaches it gets 200."""
    body = b'{"ok":true}'
    # A length, so that gunicorn does not chunk the answer.
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


def exchange(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Sends `request` raw (no client library would send that header) and reads the answer up to
    the end of the connection: gunicorn closes it after an error, and after the answer to a
    request saying `Connection: close`."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, {name.lower(): value for name, value in headers.items()}, body


@pytest.fixture(scope="module")
def gunicorn_port() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "tests.deploy.test_gunicorn_errors:application",
            "--config",
            str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "gunicorn exited"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_request_within_the_limits_reaches_the_application(gunicorn_port):
    status, _, body = exchange(
        gunicorn_port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )

    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"ok": True}


def test_a_header_over_8_kib_is_a_431_in_json(gunicorn_port):
    request = f"GET / HTTP/1.1\r\nHost: x\r\n{OVERSIZED_HEADER}\r\n\r\n".encode()

    status, headers, body = exchange(gunicorn_port, request)

    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body) == {"detail": "Request Header Fields Too Large."}


def test_a_request_line_over_the_limit_is_a_414_in_json(gunicorn_port):
    status, headers, body = exchange(
        gunicorn_port, f"GET /{'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )

    assert status == "HTTP/1.1 414 URI Too Long"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"detail": "URI Too Long."}
