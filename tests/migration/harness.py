"""Real nginx and small real HTTP backends on loopback, for the proxy's integration tests.

`RunningProxy` renders a plan into a private prefix under a temporary folder, starts nginx in
the foreground on free ports and stops it on exit. `EchoBackend` is a threaded HTTP/1.1
server answering JSON that says which backend saw which request.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import yaml

from strangler.gates.verdict import Verdicts
from strangler.plan.instances import instance_port
from strangler.proxy.control import Controller, FlipHook
from strangler.proxy.nginx import Nginx
from strangler.proxy.site import Site
from tests.support.live import LiveBackend, is_postgres_url

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOP_PLAN = REPO_ROOT / "migration-plan" / "plan.yaml"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0


def unsigned_bearer(subject: str) -> dict[str, str]:
    """An Authorization header whose JWT names `subject` and is not signed: the proxy reads
    the subject for canary stickiness without verifying it, as the backends would."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return {"Authorization": f"Bearer {part({'alg': 'RS256'})}.{part({'sub': subject})}.sig"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_instances_port(instances: int) -> int:
    """A free port whose backend's next `instances - 1` ports (strangler.plan.instances) are
    free too."""
    for _attempt in range(100):
        port = free_port()
        if all(_is_free(instance_port(port, index)) for index in range(1, instances)):
            return port
    raise RuntimeError(f"no free port with {instances} instances' ports free")


class _EchoServer(ThreadingHTTPServer):
    # socketserver's backlog of 5 overflows when the proxy lets a burst of 50 through at once:
    # nginx then times out connecting (504), which is the harness failing, not the proxy.
    request_queue_size = 256


class EchoBackend:
    """Answers every request with {"backend", "method", "path", "request_id", "shadow", "token",
    "answer_id"}: answer_id is new in every answer, the noise a shadow report must learn.

    `?sleep=S` delays the answer, `?set-cookie=NAME` sets the cookie NAME; `healthy = False`
    makes /readyz answer 503, `failing = STATUS` every other path. `seen` records each
    request, with its headers as (lower-case name, value) pairs under "headers".
    """

    def __init__(self, name: str, *, delay: float = 0.0, port: int = 0) -> None:
        self.name = name
        self.delay = delay
        self.healthy = True
        self.failing: int | None = None
        self.seen: list[dict] = []
        self._lock = threading.Lock()
        backend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                time.sleep(float(query.get("sleep", ["0"])[0]) or backend.delay)
                status = 200
                if url.path == "/readyz":
                    status = 200 if backend.healthy else 503
                elif backend.failing:
                    status = backend.failing
                record = {
                    "backend": backend.name,
                    "method": self.command,
                    "path": self.path,
                    "request_id": self.headers.get("X-Request-ID"),
                    "shadow": self.headers.get("X-Strangler-Shadow"),
                    "token": self.headers.get("X-Strangler-Token"),
                    "answer_id": uuid.uuid4().hex,
                }
                with backend._lock:
                    # Every header as it arrived (names in lower case), for the tests only.
                    headers = [(name.lower(), value) for name, value in self.headers.items()]
                    backend.seen.append({**record, "headers": headers})
                body = json.dumps(record).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Request-ID", "set-by-backend")
                for cookie in query.get("set-cookie", []):
                    self.send_header("Set-Cookie", f"{cookie}={backend.name}; Path=/")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

            def log_message(self, *args) -> None:
                pass

        self.server = _EchoServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EchoBackend:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunningProxy:
    """nginx serving `plan_path` with the given backend URLs, from a prefix under `var_dir`."""

    def __init__(
        self,
        var_dir: Path,
        *,
        backends: Mapping[str, str],
        plan_path: Path = SHOP_PLAN,
        env: Mapping[str, str] | None = None,
        hooks: tuple[FlipHook, ...] = (),
        internal_port: int | None = None,
        gates: tuple[str, ...] | None = None,
    ) -> None:
        # A fixed internal port lets backends be told where it is before the proxy starts.
        self.internal_port = internal_port
        self.var_dir = var_dir
        self.backends = dict(backends)
        self.plan_path = plan_path
        self.extra_env = dict(env or {})
        self.hooks = hooks
        # The gates of the can-flip verdict its controller judges (None: no gate).
        self.gates = gates
        self.process: subprocess.Popen | None = None

    def environment(self, public: int, internal: int) -> dict[str, str]:
        env = {
            "STRANGLER_ROOT": str(REPO_ROOT),
            "STRANGLER_PLAN": str(self.plan_path),
            "STRANGLER_VAR_DIR": str(self.var_dir),
            "PROXY_PORT": str(public),
            "PROXY_INTERNAL_PORT": str(internal),
            "PROXY_WORKERS": "2",
            "SHOP_ENV": "development",
        }
        env.update({f"{name.upper()}_URL": url for name, url in self.backends.items()})
        env.update(self.extra_env)
        return env

    def __enter__(self) -> RunningProxy:
        for _attempt in range(3):
            self.env = self.environment(free_port(), self.internal_port or free_port())
            self.site = Site.from_env(self.env)
            gate = Verdicts(self.site, only=self.gates) if self.gates is not None else None
            self.controller = Controller(self.site, hooks=self.hooks, gate=gate)
            self.controller.up()
            log = (self.var_dir / "nginx-stderr.log").open("ab")
            self.process = subprocess.Popen(
                Nginx(self.site).foreground_command(),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            if self._wait_started():
                return self
            self.stop()
        raise RuntimeError(f"nginx did not start: {self.error_log_tail()}")

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def public_url(self) -> str:
        return self.site.options.public_url

    @property
    def internal_url(self) -> str:
        return self.site.options.internal_url

    def _wait_started(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        admin = self.controller.admin()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if admin.live() is not None:
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGQUIT)  # graceful: workers finish their requests
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)

    def error_log_tail(self, lines: int = 20) -> str:
        text = ""
        for path in (self.site.error_log, self.var_dir / "nginx-stderr.log"):
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return text


@contextlib.contextmanager
def own_database(name: str) -> Iterator[str | None]:
    """A fresh PostgreSQL database `<suite database>_b_<name>` when the suite runs on
    PostgreSQL, else None (LiveBackend then uses a temporary SQLite file)."""
    source = os.environ.get("MONOLITH_DATABASE_URL", "")
    if not is_postgres_url(source):
        yield None
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(source)
    admin = urlunsplit(parts._replace(path="/postgres"))
    # Named after the suite's database, so suites run side by side on other databases never meet.
    database = f"{parts.path.lstrip('/') or 'shop'}_b_{name}"[:63]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    try:
        yield urlunsplit(parts._replace(path=f"/{database}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )


@contextlib.contextmanager
def live_backend(name: str) -> Iterator[LiveBackend]:
    with own_database(name) as url, LiveBackend(name=f"b_{name}", database_url=url) as backend:
        yield backend


SHOP_BACKENDS = ("monolith", "auth", "catalog", "orders")


@contextlib.contextmanager
def echo_backends(names: tuple[str, ...] = SHOP_BACKENDS) -> Iterator[dict[str, EchoBackend]]:
    """One running EchoBackend per name, stopped on exit."""
    backends = {name: EchoBackend(name).__enter__() for name in names}
    try:
        yield backends
    finally:
        for backend in backends.values():
            backend.stop()


def shop_plan_gated(directory: Path, **gates: Mapping[str, Any]) -> Path:
    """A copy of the shop's plan, written to `directory`, whose `gates` sections named here
    (shadow=..., canary=...) are replaced whole: keys left out take the framework's defaults,
    not the shop's. A test of a gate's mechanics states the thresholds it needs this way; the
    shop's own values are sized for its real traffic and may change."""
    plan = yaml.safe_load(SHOP_PLAN.read_text(encoding="utf-8"))
    plan["gates"] = {**plan.get("gates", {}), **gates}
    path = directory / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def proxy_at(
    var_dir: Path, backends: Mapping[str, EchoBackend], step: str, *, plan_path: Path = SHOP_PLAN
) -> Iterator[RunningProxy]:
    """The shop's plan (or `plan_path`) on real nginx in front of `backends`, applied up to
    `step`."""
    urls = {name: backend.url for name, backend in backends.items()}
    with RunningProxy(var_dir, backends=urls, plan_path=plan_path) as running:
        running.controller.apply(step, gated=False)
        yield running
