"""gunicorn's own refusals (a request line or a header over its limits, a malformed request) in
the chassis' JSON shape, {"detail": ...}, instead of gunicorn's HTML page: a client of a
backend's port gets the same kind of answer whichever layer refused its request.

gunicorn has no setting or hook for this: every worker writes these answers through
gunicorn.util.write_error (Worker.handle_error), which `install()` replaces. Call it from the
gunicorn config file, which runs in the master before the workers fork.
tests/deploy/test_gunicorn_errors.py sends gunicorn an oversized header, so a gunicorn release
that stops calling write_error fails a test instead of quietly answering HTML again.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

# The compact separators of the chassis' other JSON errors (strangler.service.errors).
_COMPACT = (",", ":")


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """The answer to a request gunicorn refused before the application saw it. Only the status's
    reason goes in the body: gunicorn's message may quote what the client sent."""
    body = json.dumps({"detail": f"{reason}."}, separators=_COMPACT).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_json_error
