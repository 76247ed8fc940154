"""docs/adopting.md, followed on a project that is not the shop.

A wheel of the framework is built from this repository and installed into a virtualenv of its
own (its dependencies are the project's, so nothing is downloaded; their commands run as
`python -m django`, `-m gunicorn` and `-m celery`). With it, `django-admin
startproject` makes a monolith with one app and a service; the guide's code blocks are
written as the guide says; both backends run with their relay and consumer behind nginx; and
the notes domain is backfilled, compared and flipped to the service and back while clients
keep writing notes through the proxy. Not one request may fail and not one note may be lost.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.adoption import guide
from tests.migration.harness import REPO_ROOT, free_port, own_database
from tests.support.broker import empty_sync_queues, shop_broker_url
from tests.support.processes import spawn, stop_group

pytestmark = pytest.mark.integration

COMMAND_TIMEOUT = 180
READY_TIMEOUT = 60.0
LEGACY_NOTES = 300
LOAD_CLIENTS = 3


def run(command: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )
    assert done.returncode == 0, f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv holding the strangler wheel, built from the files its image copies."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"
    source.mkdir()
    shutil.copy(REPO_ROOT / "pyproject.toml", source)
    shutil.copytree(
        REPO_ROOT / "strangler",
        source / "strangler",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "wheel", "--no-deps", "-w", str(root / "wheels"), str(source)], cwd=root, env={})
    (wheel,) = (root / "wheels").glob("strangler-*.whl")
    target = root / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(target)], cwd=root, env={})
    run(
        [*pip, "--python", str(target / "bin" / "python"), "install", "--no-deps", str(wheel)],
        cwd=root,
        env={},
    )
    # The dependencies: the project's environment, as a path line (its own .pth files, among
    # them the editable install of this repository, are not read through it).
    (site_packages,) = (target / "lib").glob("python3*/site-packages")
    (site_packages / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return target


@dataclass
class Adopter:
    """The work folder of a team following the guide, and what runs in it."""

    work: Path
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def python(self, project: str, *args: str) -> str:
        return run(["python", "manage.py", *args], cwd=self.work / project, env=self.env)

    def strangle(self, *args: str) -> str:
        return run(["strangle", *args], cwd=self.work, env=self.env)

    def start(self, name: str, command: list[str], *, cwd: Path, **env: str) -> None:
        self.processes.append(
            spawn(command, cwd=cwd, env={**self.env, **env}, log_path=self.logs / f"{name}.log")
        )

    def backend(self, project: str, backend: str, url: str, database_url: str) -> None:
        cwd, env = self.work / project, {"DATABASE_URL": database_url}
        bind = url.removeprefix("http://")
        self.start(
            project,
            ["python", "-m", "gunicorn", f"{project}.wsgi", "--bind", bind, "--threads", "8"],
            cwd=cwd,
            **env,
        )
        self.start(f"{project}-relay", ["python", "manage.py", "sync_relay"], cwd=cwd, **env)
        queues = f"sync.{backend}.0,sync.{backend}.1"
        self.start(
            f"{project}-sync",
            [
                "python",
                "-m",
                "celery",
                "-A",
                project,
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--queues",
                queues,
            ],
            cwd=cwd,
            **env,
        )

    def wait_ready(self, url: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        tails = {path.name: path.read_text()[-2000:] for path in self.logs.glob("*.log")}
        pytest.fail(f"{url} not ready in {READY_TIMEOUT} s; logs: {json.dumps(tails, indent=1)}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_group(process)


@dataclass
class NoteLoad:
    """Clients writing notes through the proxy and reading each one back, until stopped."""

    base_url: str
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    written: dict[int, str] = field(default_factory=dict)  # id -> title
    served_by: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)

    def client(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while not self._stop.is_set():
                title = f"note {uuid.uuid4().hex[:12]}"
                created = http.post("/api/notes", json={"title": title, "body": "under load"})
                self.outcomes[f"POST {created.status_code}"] += 1
                if created.status_code != 201:
                    self.failures.append(f"POST {created.status_code} {created.text[:200]}")
                    continue
                self.served_by[created.headers.get("X-Served-By", "?")] += 1
                note_id = created.json()["id"]
                self.written[note_id] = title
                read = http.get(f"/api/notes/{note_id}")
                self.outcomes[f"GET {read.status_code}"] += 1
                if read.status_code != 200 or read.json()["title"] != title:
                    self.failures.append(f"GET {note_id}: {read.status_code} {read.text[:200]}")

    def __enter__(self) -> NoteLoad:
        self._threads = [threading.Thread(target=self.client) for _ in range(LOAD_CLIENTS)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


@pytest.fixture
def adopter(venv: Path, tmp_path: Path) -> Iterator[Adopter]:
    work = tmp_path / "work"
    work.mkdir()
    ports = {name: free_port() for name in ("monolith", "notes", "public", "internal")}
    broker = shop_broker_url(redis_db=11, default="redis://127.0.0.1:6379/11")
    empty_sync_queues(broker, ["monolith", "notes"])
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(work / "domains"),
        "CELERY_BROKER_URL": broker,
        "MONOLITH_URL": f"http://127.0.0.1:{ports['monolith']}",
        "NOTES_URL": f"http://127.0.0.1:{ports['notes']}",
        "PROXY_PORT": str(ports["public"]),
        "PROXY_INTERNAL_PORT": str(ports["internal"]),
        # One secret for both backends and the CLI, as the guide's section 4 says.
        "STRANGLER_INTERNAL_TOKEN": secrets.token_urlsafe(32),
    }
    adopter = Adopter(work=work, env=env, logs=tmp_path / "logs")
    try:
        yield adopter
    finally:
        adopter.stop()


def test_a_team_follows_the_guide_from_install_to_a_flip_under_load(adopter: Adopter):
    work, env = adopter.work, adopter.env
    here = run(["python", "-c", "import strangler; print(strangler.__file__)"], cwd=work, env=env)
    assert "/venv/lib/" in here, f"strangler imported from {here}, not the installed wheel"

    # 2. One domain, one code: the app leaves the monolith's folder; both projects install it.
    run(["python", "-m", "django", "startproject", "legacy"], cwd=work, env=env)
    run(["python", "-m", "django", "startproject", "notes_service"], cwd=work, env=env)
    adopter.python("legacy", "startapp", "notes")
    (work / "domains").mkdir()
    (work / "legacy" / "notes").rename(work / "domains" / "notes")
    written = guide.blocks()
    assert {block.path for block in written} >= {
        "domains/notes/models.py",
        "migration-plan/plan.yaml",
        "legacy/legacy/settings.py",
        "notes_service/notes_service/settings.py",
    }
    for block in written:
        block.write(work)

    with (
        own_database("adopt_monolith") as monolith_db,
        own_database("adopt_notes") as notes_db,
    ):
        if monolith_db is None or notes_db is None:
            pytest.skip("the guide's backends need PostgreSQL (MONOLITH_DATABASE_URL)")
        env["DATABASE_URL"] = monolith_db
        adopter.python("legacy", "makemigrations", "notes")
        adopter.python("legacy", "migrate", "--noinput")
        env["DATABASE_URL"] = notes_db
        adopter.python("notes_service", "migrate", "--noinput")
        del env["DATABASE_URL"]
        # Notes written before the monolith recorded its changes: only a backfill copies them.
        with psycopg.connect(monolith_db, autocommit=True) as db:
            db.execute(
                "INSERT INTO notes_note (title, body, created_at) "
                "SELECT 'legacy ' || n, 'from before', now() FROM generate_series(1, %s) n",
                [LEGACY_NOTES],
            )

        # 4. Both backends with their relay and consumer; 5. nginx in front.
        adopter.backend("legacy", "monolith", env["MONOLITH_URL"], monolith_db)
        adopter.backend("notes_service", "notes", env["NOTES_URL"], notes_db)
        adopter.wait_ready(env["MONOLITH_URL"] + "/readyz")
        adopter.wait_ready(env["NOTES_URL"] + "/readyz")
        adopter.strangle("up")
        adopter.start(
            "nginx",
            [
                "nginx",
                "-p",
                f"{work}/var/nginx/",
                "-c",
                "conf/nginx.conf",
                "-e",
                "logs/error.log",
                "-g",
                "daemon off;",
            ],
            cwd=work,
        )
        adopter.strangle("wait", "--timeout", "30")
        public = f"http://127.0.0.1:{env['PROXY_PORT']}"

        with NoteLoad(public) as load:
            # 6. Backfill and parity; 7. the flip, and back, while clients write.
            adopter.strangle("backfill", "notes")
            adopter.strangle("parity", "notes")
            applied = adopter.strangle("apply", "1-notes")
            assert "writes paused" in applied, applied
            time.sleep(2)
            on_service = httpx.post(f"{public}/api/notes", json={"title": "on the service"})
            assert on_service.headers["X-Served-By"] == "notes", on_service.text
            adopter.strangle("rollback")
            time.sleep(1)

        assert not load.failures, (load.failures[:10], load.outcomes)
        assert load.outcomes["POST 201"] >= 30, load.outcomes
        assert load.served_by["monolith"] and load.served_by["notes"], load.served_by
        status = json.loads(adopter.strangle("status", "--json"))
        assert status["step"]["id"] == "0-monolith", status

        # Every note is on both sides: the parity check passes once the copies caught up.
        deadline = time.monotonic() + 30
        while True:
            parity = subprocess.run(
                ["strangle", "parity", "notes", "--json"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=COMMAND_TIMEOUT,
            )
            if parity.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert parity.returncode == 0, parity.stdout + parity.stderr
        with httpx.Client(base_url=env["NOTES_URL"], timeout=10) as copy:
            for note_id, title in list(load.written.items())[::10]:
                assert copy.get(f"/api/notes/{note_id}").json()["title"] == title
