"""Run a real backend (migrate, seed, gunicorn) on a free loopback port for black-box tests.

`LiveBackend` owns everything it creates: a fresh database (a PostgreSQL database on the server
that the project's database URL, or else MONOLITH_DATABASE_URL, points at; or an SQLite file in
a temporary directory), the gunicorn process group, with `sync=True` the Celery worker and the
outbox relay that keep other backends' copies in step, and a log file. Leaving the context stops
the processes and drops the database. The monolith is the default project; AUTH, CATALOG and
ORDERS are the extracted services.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from strangler.sync import partitions
from tests.support.processes import STOP_TIMEOUT, signal_group, spawn, stop_group

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "psql"})
LOG_DIR = REPO_ROOT / "var" / "live"

READY_TIMEOUT = 60.0
COMMAND_TIMEOUT = 300.0
LOG_TAIL_LINES = 60
# A port picked by binding to 0 can be taken by someone else before gunicorn binds it.
BIND_ATTEMPTS = 3


@dataclass(frozen=True)
class Project:
    name: str
    directory: str  # gunicorn's --chdir and the Celery worker's working directory
    manage: str
    wsgi: str
    celery_app: str
    database_env: str
    settings_module: str
    seed: tuple[str, ...] = ()


MONOLITH = Project(
    name="monolith",
    directory="monolith",
    manage="manage.py",
    wsgi="shop.wsgi:application",
    celery_app="shop",
    database_env="MONOLITH_DATABASE_URL",
    settings_module="shop.settings",
    seed=("seed_shop", "--products"),
)


def _extracted(name: str, package: str) -> Project:
    """A service under extracted/<name>, its Django project `package`."""
    return Project(
        name=name,
        directory=f"extracted/{name}",
        manage=f"extracted/{name}/manage.py",
        wsgi=f"{package}.wsgi:application",
        celery_app=package,
        database_env=f"{name.upper()}_DATABASE_URL",
        settings_module=f"{package}.settings",
    )


AUTH = _extracted("auth", "authsvc")
CATALOG = _extracted("catalog", "catalogsvc")
ORDERS = _extracted("orders", "orderssvc")


class LiveBackendError(RuntimeError):
    """The monolith could not be prepared or did not become ready."""


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in POSTGRES_SCHEMES


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process group: no handler runs, nothing is cleaned up or acknowledged."""
    signal_group(process, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT)


def _venv_bin(name: str) -> str:
    candidate = REPO_ROOT / ".venv" / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    return found or name


def _callers_internal_token() -> str:
    """The internal token of this process's Django settings, when it has any (benchmarks run
    LiveBackend without)."""
    from django.conf import settings

    return getattr(settings, "STRANGLER_INTERNAL_TOKEN", "") if settings.configured else ""


def _safe_identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", text.lower())


class LiveBackend:
    """A backend served by gunicorn on 127.0.0.1:<free port>, ready when entered."""

    def __init__(
        self,
        *,
        name: str = "monolith",
        project: Project = MONOLITH,
        database_url: str | None = None,
        env: Mapping[str, str] | None = None,
        products: int = 20,
        workers: int = 2,
        sync: bool = False,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.project = project
        self.sync = sync
        # A fixed port lets two backends be told each other's URL before either starts.
        self._fixed_port = port
        self._companions: list[subprocess.Popen[bytes]] = []
        self._consumers: list[subprocess.Popen[bytes]] = []
        self._relays: list[subprocess.Popen[bytes]] = []
        self.products = products
        self.workers = workers
        self._requested_database_url = database_url
        self._extra_env = dict(env or {})
        self.database_url: str | None = None
        self.env: dict[str, str] = {}
        self.port: int | None = None
        self.base_url: str | None = None
        # Two backends of one name (two suites' fixtures alive together) never share a database.
        self.instance = uuid.uuid4().hex[:8]
        self.log_path = LOG_DIR / f"{_safe_identifier(name)}-{self.instance}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None
        # The backend's processes share their metrics here (STRANGLER_METRICS_DIR), as under
        # `make up`; emptied with the rest when it stops.
        self.metrics_dir: Path | None = None
        self._created_postgres_db: tuple[str, str] | None = None  # (admin url, db name)

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> LiveBackend:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.prepare()
            self._serve()
            if self.sync:
                self._start_sync_processes()
        except BaseException:
            self.stop()
            raise

    def prepare(self) -> None:
        """The database (migrated and seeded) and `env`, without starting a process: for a test
        that runs the backend under a process manager. `stop()` drops the database."""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.database_url = self._prepare_database()
        self.env = self._build_env()
        self.manage("migrate", "--noinput")
        if self.project.seed:
            self.manage(*self.project.seed, str(self.products))

    def stop(self) -> None:
        try:
            self._terminate()
        finally:
            self._drop_database()

    def crash(self) -> None:
        """Every process of the backend killed at once; its database stays (a crashed host)."""
        companions, self._companions, self._consumers, self._relays = self._companions, [], [], []
        process, self._process = self._process, None
        for running in [*companions, process]:
            if running is not None:
                _kill(running)

    def restart(self) -> None:
        """After `crash()`: gunicorn again on the same port and database, with the sync
        processes when the backend has them."""
        self._fixed_port = self.port  # the proxy and the other backends know this address
        self._serve()
        if self.sync:
            self._start_sync_processes()

    @property
    def pid(self) -> int | None:
        """The gunicorn master's pid (also its process group id) while it runs."""
        return self._process.pid if self._process is not None else None

    def manage(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> None:
        """Run `manage.py <args>` against this backend's database; output goes to the log."""
        command = [_venv_bin("python"), str(REPO_ROOT / self.project.manage), *args]
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            try:
                completed = subprocess.run(
                    command,
                    cwd=REPO_ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise LiveBackendError(self._failure(f"{args[0]} timed out")) from exc
        if completed.returncode != 0:
            raise LiveBackendError(self._failure(f"{args[0]} exited {completed.returncode}"))

    # -- database --------------------------------------------------------------------------
    def _prepare_database(self) -> str:
        if self._requested_database_url:
            return self._requested_database_url
        source = os.environ.get(self.project.database_env) or os.environ.get(
            "MONOLITH_DATABASE_URL", ""
        )
        if is_postgres_url(source):
            return self._create_postgres_database(source)
        self._tmpdir = Path(tempfile.mkdtemp(prefix=f"shop-live-{_safe_identifier(self.name)}-"))
        return f"sqlite:///{self._tmpdir / f'{self.project.name}.sqlite3'}"

    def _create_postgres_database(self, source: str) -> str:
        import psycopg
        from psycopg import sql

        parts = urlsplit(source)
        base_name = parts.path.lstrip("/") or "shop"
        db_name = _safe_identifier(f"{base_name}_live_{self.name}")[:54] + f"_{self.instance}"
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))
        self._created_postgres_db = (admin_url, db_name)
        return urlunsplit(parts._replace(path=f"/{db_name}"))

    def _drop_database(self) -> None:
        if self._created_postgres_db is not None:
            import psycopg
            from psycopg import sql

            admin_url, db_name = self._created_postgres_db
            self._created_postgres_db = None
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(db_name)
                    )
                )
        for folder in (self._tmpdir, self.metrics_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        self._tmpdir = self.metrics_dir = None

    # -- processes -------------------------------------------------------------------------
    def _build_env(self) -> dict[str, str]:
        env = dict(os.environ)
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="shop-metrics-"))
        env.update(
            {
                "STRANGLER_METRICS_DIR": str(self.metrics_dir),
                self.project.database_env: self.database_url or "",
                "DJANGO_SETTINGS_MODULE": self.project.settings_module,
                "PYTHONUNBUFFERED": "1",
            }
        )
        token = _callers_internal_token()
        if token:
            # The internal token the test process calls with: a backend given a var/ of its
            # own would otherwise generate another one there and refuse the test's calls.
            env.setdefault("STRANGLER_INTERNAL_TOKEN", token)
        env.update(self._extra_env)
        return env

    def _serve(self) -> None:
        for _attempt in range(1 if self._fixed_port else BIND_ATTEMPTS):
            self.port = self._fixed_port or free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            self._process = self._spawn_gunicorn()
            if self._wait_ready():
                return
            crashed = self._process.poll() is not None
            self._terminate()
            if not (crashed and "Address already in use" in self._log_tail()):
                break
        raise LiveBackendError(self._failure("gunicorn did not become ready"))

    def _spawn_gunicorn(self) -> subprocess.Popen[bytes]:
        command = [
            _venv_bin("gunicorn"),
            self.project.wsgi,
            "--chdir",
            self.project.directory,
            # The production settings (threaded workers, keep-alive), so tests see what runs.
            "--config",
            str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "5",
        ]
        return self._spawn(command, cwd=REPO_ROOT)

    def _start_sync_processes(self) -> None:
        """The consumer of this backend's sync queue and the relay of its outbox (as the
        supervisor programs <name>-sync and <name>-relay run them)."""
        self.start_sync_consumer()
        self.start_relay()

    def start_relay(self) -> None:
        relay = self._spawn(
            [
                _venv_bin("python"),
                str(REPO_ROOT / self.project.manage),
                "sync_relay",
                "--interval",
                "0.05",
            ],
            cwd=REPO_ROOT,
        )
        self._relays.append(relay)
        self._companions.append(relay)

    def stop_relay(self, *, kill: bool = False) -> None:
        """Stops the outbox relay (its unsent rows wait in the database); `kill` sends SIGKILL
        instead of asking it to stop."""
        relays, self._relays = self._relays, []
        self._stop_companions(relays, kill=kill)

    def stop_sync_consumer(self, *, kill: bool = False) -> None:
        """Stops the consumers of this backend's sync queues (their messages wait in the broker);
        `kill` sends SIGKILL, so a batch being applied is cut short unacknowledged."""
        consumers, self._consumers = self._consumers, []
        self._stop_companions(consumers, kill=kill)

    def _stop_companions(self, processes: list[subprocess.Popen[bytes]], *, kill: bool) -> None:
        for process in processes:
            self._companions.remove(process)
            if kill:
                _kill(process)
            else:
                stop_group(process)

    def start_sync_consumer(self) -> None:
        """One consumer per sync partition, as the supervisor programs <name>-sync run them."""
        for queue in partitions.queues(self.project.name):
            consumer = self._spawn(
                [
                    _venv_bin("celery"),
                    "-A",
                    self.project.celery_app,
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--pool",
                    "solo",  # events of one partition apply in the order they were published
                    "--queues",
                    queue,
                    "--hostname",
                    f"{self.name}-{uuid.uuid4().hex[:6]}@%h",
                ],
                cwd=REPO_ROOT / self.project.directory,
            )
            self._consumers.append(consumer)
            self._companions.append(consumer)

    def _spawn(self, command: list[str], *, cwd: Path) -> subprocess.Popen[bytes]:
        return spawn(command, cwd=cwd, env=self.env, log_path=self.log_path)

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.base_url, timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    return False
                try:
                    if client.get("/readyz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        return False

    def _terminate(self) -> None:
        companions, self._companions = self._companions, []
        for companion in companions:
            stop_group(companion)
        process, self._process = self._process, None
        if process is not None:
            stop_group(process)

    # -- diagnostics -----------------------------------------------------------------------
    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def _failure(self, reason: str) -> str:
        return (
            f"LiveBackend {self.name!r}: {reason} (log: {self.log_path})\n"
            f"--- last {LOG_TAIL_LINES} log lines ---\n{self._log_tail()}"
        )

    def __repr__(self) -> str:
        return f"LiveBackend(name={self.name!r}, base_url={self.base_url!r})"
