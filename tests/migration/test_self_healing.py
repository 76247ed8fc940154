"""Self-healing on one machine: the monolith's program of `make up`
(deploy/supervisor/programs/monolith.conf) with two instances (MONOLITH_INSTANCES=2) under a
real supervisord, behind real nginx. One instance is killed with SIGKILL under read load: no
request is lost, and supervisord starts it again."""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import signal
import threading
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from strangler.plan.instances import instance_port
from tests.migration.harness import REPO_ROOT, RunningProxy, free_instances_port, free_port
from tests.support.live import LiveBackend
from tests.support.processes import spawn, stop_group

pytestmark = pytest.mark.integration

PROGRAMS = REPO_ROOT / "deploy" / "supervisor" / "programs" / "monolith.conf"
SUPERVISORD = REPO_ROOT / ".venv" / "bin" / "supervisord"
INSTANCES = 2
READY_TIMEOUT = 90.0
RESTART_TIMEOUT = 60.0
LOAD_CLIENTS = 3
READS = ("/api/products", "/api/categories", "/healthz")


def supervisor_config(directory: Path, rpc_port: int) -> Path:
    """A supervisord of the test's own (its files in `directory`, its API on `rpc_port`) running
    `make up`'s monolith program as it is, but for where its log goes."""
    programs = configparser.RawConfigParser()  # supervisord expands %(...)s itself
    programs.read(PROGRAMS)
    web = dict(programs["program:monolith"])
    web["stdout_logfile"] = str(directory / "monolith-%(process_num)d.log")
    config = configparser.RawConfigParser()
    config["inet_http_server"] = {"port": f"127.0.0.1:{rpc_port}"}
    config["supervisord"] = {
        "nodaemon": "true",
        "logfile": str(directory / "supervisord.log"),
        "pidfile": str(directory / "supervisord.pid"),
        "childlogdir": str(directory),
    }
    config["rpcinterface:supervisor"] = {
        "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
    }
    config["program:monolith"] = web
    path = directory / "supervisord.conf"
    with path.open("w", encoding="utf-8") as file:
        config.write(file)
    return path


class Supervisor:
    """supervisord's XML-RPC API, as `supervisorctl` uses it."""

    def __init__(self, rpc_port: int) -> None:
        self.api = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{rpc_port}/RPC2").supervisor

    def instance(self, index: int) -> dict:
        return self.api.getProcessInfo(f"monolith:monolith-{index}")

    def running_pid(self, index: int) -> int | None:
        with contextlib.suppress(OSError, xmlrpc.client.Error):
            info = self.instance(index)
            if info["statename"] == "RUNNING":
                return info["pid"]
        return None


def ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
    return False


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {timeout:.0f} s"
        time.sleep(0.2)


@contextlib.contextmanager
def supervised_monolith(tmp_path: Path) -> Iterator[tuple[Supervisor, list[str]]]:
    """The monolith's two instances under supervisord: its API and the instances' URLs."""
    port, rpc_port = free_instances_port(INSTANCES), free_port()
    urls = [f"http://127.0.0.1:{instance_port(port, index)}" for index in range(INSTANCES)]
    backend = LiveBackend(
        name="healing",
        env={"SHOP_VAR_DIR": str(tmp_path / "var"), "MONOLITH_URL": urls[0]},
    )
    try:
        backend.prepare()
        env = {
            **backend.env,
            "SHOP_ROOT": str(REPO_ROOT),
            "MONOLITH_BIND": f"127.0.0.1:{port}",
            "MONOLITH_INSTANCES": str(INSTANCES),
            "GUNICORN_WORKERS": "2",
        }
        config = supervisor_config(tmp_path, rpc_port)
        process = spawn(
            [str(SUPERVISORD), "-c", str(config)],
            cwd=REPO_ROOT,
            env=env,
            log_path=tmp_path / "supervisord.out",
        )
        try:
            supervisor = Supervisor(rpc_port)
            wait_until(
                lambda: all(ready(url) for url in urls), READY_TIMEOUT, "the instances not ready"
            )
            yield supervisor, urls
        finally:
            stop_group(process)  # supervisord stops its programs first (SIGTERM)
    finally:
        backend.stop()


class ReadLoad:
    """Clients reading through the proxy on keep-alive connections until stopped; every
    answer's status, in order."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.statuses: list[int | str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read) for _ in range(LOAD_CLIENTS)]

    def _read(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            while not self._stop.is_set():
                for path in READS:
                    try:
                        self.statuses.append(client.get(path).status_code)
                    except httpx.HTTPError as error:
                        self.statuses.append(type(error).__name__)

    def __enter__(self) -> ReadLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def test_an_instance_killed_under_read_load_loses_no_request_and_is_restarted(tmp_path):
    with supervised_monolith(tmp_path) as (supervisor, urls):
        others = {name: f"http://127.0.0.1:{free_port()}" for name in ("auth", "catalog", "orders")}
        with RunningProxy(
            tmp_path / "proxy",
            backends={"monolith": urls[0], **others},
            env={"MONOLITH_INSTANCES": str(INSTANCES)},
        ) as proxy:
            with ReadLoad(proxy.public_url) as load:
                wait_until(lambda: len(load.statuses) >= 60, 30, "too few reads")
                killed = supervisor.running_pid(0)
                assert killed is not None
                os.killpg(killed, signal.SIGKILL)  # the gunicorn master and its workers
                answered_before = len(load.statuses)
                wait_until(
                    lambda: supervisor.running_pid(0) not in (None, killed) and ready(urls[0]),
                    RESTART_TIMEOUT,
                    "the killed instance not restarted",
                )
                wait_until(lambda: len(load.statuses) >= answered_before + 60, 30, "too few reads")
            access_log = proxy.site.access_log
    failures = [status for status in load.statuses if status != 200]
    assert failures == [], f"{len(failures)} of {len(load.statuses)} reads failed: {failures[:5]}"
    # Both instances answered reads through the proxy.
    upstreams = {
        json.loads(line)["upstream"] for line in access_log.read_text().splitlines() if line
    }
    assert {url.removeprefix("http://") for url in urls} <= upstreams
