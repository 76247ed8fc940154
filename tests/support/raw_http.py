"""HTTP/1.1 exchanges written byte by byte, for requests no well-behaved client will send
(CR/LF inside a header value, raw non-ASCII bytes, hundreds of headers).

`exchange` sends one request on a new connection with `Connection: close` and reads the whole
answer; `RawResponse` keeps the raw bytes so a test can check nothing it sent came back.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass

TIMEOUT = 15.0


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[str, str]]  # in order, names lower-cased, values decoded as latin-1
    body: bytes
    raw: bytes  # everything the server sent

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]


def build_request(
    method: str,
    target: str,
    headers: Iterable[tuple[bytes | str, bytes | str]],
    body: bytes = b"",
) -> bytes:
    """The request's bytes; names and values go out exactly as given (str as UTF-8)."""
    lines = [f"{method} {target} HTTP/1.1".encode()]
    for name, value in headers:
        lines.append(_bytes(name) + b": " + _bytes(value))
    if body:
        lines.append(f"Content-Length: {len(body)}".encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def exchange(host: str, port: int, request: bytes, *, timeout: float = TIMEOUT) -> RawResponse:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break  # a server refusing a request may reset once it has answered
            if not chunk:
                break
            chunks.append(chunk)
    return parse_response(b"".join(chunks))


def parse_response(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise AssertionError(f"not an HTTP response: {raw[:200]!r}")
    headers = []
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower().decode("latin-1"), value.strip().decode("latin-1")))
    return RawResponse(status=int(parts[1]), headers=headers, body=body, raw=raw)


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
