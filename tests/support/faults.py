"""A TCP fault proxy on a loopback port, in front of a server the tests want to take away (the
broker, a database) without stopping it: clients are pointed at the proxy, and `cut()` makes the
server unreachable for them until `restore()`.

While cut, every open connection is reset and every new one is accepted and reset at once, which
is what a client sees when the server's host goes down or restarts: its driver fails fast
(a connection error) instead of waiting on a socket that will never answer.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65536
# SO_LINGER on, zero seconds: close() sends a RST instead of a FIN, so the peer's next read or
# write fails at once ("connection reset"), as if the server's host had gone away.
_RESET = struct.pack("ii", 1, 0)


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    # close() alone does not wake a pump thread blocked in recv() on the socket, and the socket
    # lives (and the reset waits) until that returns; shutdown() wakes it at once.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:<port> to `target` ("host:port") in both directions until cut."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self.target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._cut = False
        self._closed = False
        # What the tests assert to know the fault reached the system under test.
        self.forwarded = 0  # connections forwarded to the server
        self.refused = 0  # connections reset while cut, open ones included
        self._acceptor = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)

    @classmethod
    def in_front_of(cls, url: str) -> FaultProxy:
        """A proxy in front of the server of a URL (redis://..., postgres://...)."""
        parts = urlsplit(url)
        return cls(f"{parts.hostname}:{parts.port}")

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    # -- faults ----------------------------------------------------------------------------
    def cut(self) -> None:
        """The server becomes unreachable: open connections are reset, new ones too."""
        with self._lock:
            self._cut = True
            pairs, self._pairs = self._pairs, set()
            self.refused += len(pairs)
        for client, server in pairs:
            _reset(client)
            _reset(server)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        self._acceptor.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        self.cut()
        # A connection to ourselves wakes accept() up, so the thread sees _closed and ends.
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._acceptor.join(timeout=5)
        self._listener.close()

    # -- forwarding ------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._cut or self._closed:
                with self._lock:
                    self.refused += 1
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)  # the server itself is down: pass that on
                continue
            server.settimeout(None)
            pair = (client, server)
            with self._lock:
                if self._cut:
                    self.refused += 1
                    _reset(client)
                    _reset(server)
                    continue
                self._pairs.add(pair)
                self.forwarded += 1
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(pair, source, sink), daemon=True).start()

    def _pump(
        self, pair: tuple[socket.socket, socket.socket], source: socket.socket, sink: socket.socket
    ) -> None:
        try:
            while data := source.recv(CHUNK):
                sink.sendall(data)
        except OSError:
            pass  # reset by cut(), or by either end
        with self._lock:
            owned = pair in self._pairs
            self._pairs.discard(pair)
        if owned:
            # One end closed: close both, so the other end sees it too (cut() resets instead).
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
