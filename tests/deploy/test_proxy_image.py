"""The strangler proxy's image (proxy/Dockerfile), checked without building it: what it installs
and copies, who it runs as, and its entrypoint run for real on this machine's nginx, from a copy
of the files the image holds, with the environment compose gives it."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest

import strangler
from strangler.plan import DEFAULT_PLAN, env_var_for
from strangler.proxy import RenderOptions, assets
from strangler.proxy.nginx import Nginx
from strangler.proxy.site import Site
from tests.deploy.compose import service
from tests.deploy.images import (
    Stage,
    copy_image_files,
    environment,
    relocate,
    repository_path,
    workdir,
)
from tests.migration.harness import EchoBackend
from tests.support.live import free_port

ROOT_USERS = {"root", "0"}
# Where Debian's libnginx-mod-http-lua (and its ndk dependency) install their modules.
DEBIAN_NGINX_MODULES = "/usr/lib/nginx/modules"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0


def final_stage(stages: list[Stage]) -> Stage:
    return stages[-1]


def build_stage(stages: list[Stage]) -> Stage:
    return next(stage for stage in stages if stage.name == "build")


def apt_installs(stage: Stage) -> list[str]:
    runs = [" ".join(command.value) for command in stage.all("RUN")]
    return [run for run in runs if "apt-get install" in run]


def test_every_stage_is_debian_bookworm_slim_with_python_3_11(proxy_stages: list[Stage]) -> None:
    assert proxy_stages
    for stage in proxy_stages:
        assert stage.base_image == "python:3.11-slim-bookworm", stage.base_image


def test_the_image_installs_nginx_and_its_lua_module_from_debian(
    proxy_stages: list[Stage],
) -> None:
    stage = final_stage(proxy_stages)
    (install,) = apt_installs(stage)
    packages = set(install.split()) - {"apt-get", "install", "-y", "--no-install-recommends"}
    assert {"nginx", "libnginx-mod-http-lua", "lua-cjson"} <= packages
    assert "--no-install-recommends" in install
    options = RenderOptions.from_env(environment(stage))
    assert options.modules_dir == DEBIAN_NGINX_MODULES


def test_the_image_runs_as_a_non_root_user(proxy_stages: list[Stage]) -> None:
    user = final_stage(proxy_stages).last("USER")
    assert user is not None, "the final stage never switches away from root"
    name, _, group = user.value[0].partition(":")
    assert name not in ROOT_USERS
    assert group not in ROOT_USERS


def test_the_renderer_finds_its_templates_and_the_plan_where_the_image_copies_them(
    proxy_stages: list[Stage],
) -> None:
    builder, stage = build_stage(proxy_stages), final_stage(proxy_stages)
    installs = [" ".join(command.value) for command in builder.all("RUN")]
    assert any("pip install" in run and "--editable ." in run for run in installs), installs
    # The editable install points at <build WORKDIR>/strangler: the runtime stage must put the
    # package source there, with the template and the Lua runtime it ships as package data.
    source_root = workdir(builder)
    assert repository_path(stage, source_root / "strangler") == "strangler"
    package_parent = Path(strangler.__file__).resolve().parents[1]
    for folder in (assets.TEMPLATES, assets.LUA):
        shipped = Path(str(files(assets.PACKAGE) / folder)).relative_to(package_parent)
        data = PurePosixPath(shipped.as_posix())
        assert data.parts[0] == "strangler"
        assert repository_path(stage, source_root / data) == data.as_posix()
    image_root = PurePosixPath(environment(stage)["STRANGLER_ROOT"])
    assert repository_path(stage, image_root / DEFAULT_PLAN) == str(DEFAULT_PLAN)
    assert repository_path(stage, workdir(stage) / "manage.py") == "manage.py"


def test_the_command_runs_nginx_in_the_foreground_from_the_prefix_strangle_renders_into(
    proxy_stages: list[Stage],
) -> None:
    stage = final_stage(proxy_stages)
    cmd = stage.last("CMD")
    assert cmd is not None and cmd.json, "CMD must be exec form"
    expected = Nginx(Site.from_env(environment(stage))).foreground_command()
    assert Path(cmd.value[0]).name == Path(expected[0]).name == "nginx"
    assert list(cmd.value[1:]) == expected[1:]
    options = RenderOptions.from_env(environment(stage))
    exposed = {port for command in stage.all("EXPOSE") for port in command.value}
    assert str(options.public_port) in exposed
    # The internal listener (probe, admin endpoint, shadow log) stays on the container's
    # loopback: `docker run -P` must not publish it.
    assert ipaddress.ip_address(options.internal_host).is_loopback
    assert str(options.internal_port) not in exposed


def test_the_entrypoint_renders_the_config_then_replaces_itself_with_the_command(
    proxy_stages: list[Stage],
) -> None:
    entrypoint = final_stage(proxy_stages).last("ENTRYPOINT")
    assert entrypoint is not None and entrypoint.json
    shell, flag, script, *_ = entrypoint.value
    assert (shell, flag) == ("/bin/sh", "-c")
    assert script.index("manage.py strangle up") < script.index('exec "$@"')
    assert script.rstrip().endswith('exec "$@"')


# -- the entrypoint, run ----------------------------------------------------------------------


@pytest.fixture
def echo_backends(compose_config: dict[str, Any]) -> Iterator[dict[str, EchoBackend]]:
    """A stand-in for each backend the proxy's compose environment names."""
    proxy_environment = service(compose_config, "proxy")["environment"]
    names = [name for name in compose_config["services"] if env_var_for(name) in proxy_environment]
    assert names
    backends = {name: EchoBackend(name) for name in names}
    for backend in backends.values():
        backend.__enter__()
    try:
        yield backends
    finally:
        for backend in backends.values():
            backend.stop()


def wait_healthy(
    healthcheck: list[str], env: dict[str, str], process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the entrypoint exited ({process.returncode}):\n{log.read_text()}")
        probe = subprocess.run(healthcheck, env=env, capture_output=True, timeout=10, check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.2)
    pytest.fail(f"the healthcheck never passed:\n{log.read_text()}")


@pytest.mark.integration
def test_the_entrypoint_serves_the_plans_first_step_even_when_a_crash_left_a_pid_file(
    proxy_stages: list[Stage],
    compose_config: dict[str, Any],
    echo_backends: dict[str, EchoBackend],
    repo_root: Path,
    tmp_path: Path,
) -> None:
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if nginx is None:
        pytest.fail("nginx is not installed: make proxy-install")
    stage = final_stage(proxy_stages)
    image_root = tmp_path / "image"
    image_workdir = workdir(stage)
    copy_image_files(stage, repo_root, image_root)
    definition = service(compose_config, "proxy")
    public, internal = free_port(), free_port()
    env = {
        name: relocate(value, image_workdir, image_root)
        for name, value in environment(stage).items()
    }
    env |= definition["environment"]
    # What differs from the container: this machine's interpreter and nginx, listeners on
    # loopback ports of our own, and stand-ins for the backends (their compose names resolve only
    # in compose).
    env |= {
        "PATH": f"{Path(sys.executable).parent}:{Path(nginx).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PROXY_HOST": "127.0.0.1",
        "PROXY_INTERNAL_HOST": "127.0.0.1",
        "PROXY_PORT": str(public),
        "PROXY_INTERNAL_PORT": str(internal),
        **{env_var_for(name): backend.url for name, backend in echo_backends.items()},
    }
    var_dir = Path(env["STRANGLER_VAR_DIR"])
    (var_dir / "strangler").mkdir(parents=True)
    # A container killed without a graceful stop keeps nginx's pid file, which then names a live
    # process (pid 1) when it starts again; this test's own pid plays that part.
    pid_file = var_dir / "nginx" / "logs" / "nginx.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(f"{os.getpid()}\n")

    entrypoint, cmd = stage.last("ENTRYPOINT"), stage.last("CMD")
    argv = [*entrypoint.value, *(relocate(arg, image_workdir, image_root) for arg in cmd.value)]
    log = tmp_path / "proxy.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=relocate(str(image_workdir), image_workdir, image_root),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(list(definition["healthcheck"]["test"][1:]), env, process, log)
        # The shell replaced itself with nginx: the stop signal reaches nginx's master.
        assert int(pid_file.read_text()) == process.pid
        first_step = Site.from_env(env).load_plan().steps[0].id
        probe_url = f"http://127.0.0.1:{internal}/__strangler/step"
        # The healthcheck passed with the token; without it the probe is refused.
        assert httpx.get(probe_url, timeout=5).status_code == 403
        token = (var_dir / "nginx" / "conf" / "admin.token").read_text().strip()
        probe = httpx.get(probe_url, headers={"X-Strangler-Token": token}, timeout=5).json()
        assert probe["step"] == first_step
        # The state lives where compose mounts the proxy's volume.
        assert f'"{first_step}"' in (var_dir / "strangler" / "state.json").read_text()
        answer = httpx.get(f"http://127.0.0.1:{public}/api/products", timeout=5)
        assert answer.status_code == 200, answer.text
        assert answer.json()["backend"] == "monolith"

        stop_signal = signal.Signals[stage.last("STOPSIGNAL").value[0]]
        process.send_signal(stop_signal)
        assert process.wait(timeout=STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
