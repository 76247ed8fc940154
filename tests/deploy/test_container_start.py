"""What the backends' containers need when they start, checked on this machine: gunicorn, started
as the image starts it, from a copy of the files the image holds and with the environment compose
gives it, loads the application with the number of workers the caller asks for; the monolith's
Celery beat finds a folder it may write its schedule in."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from tests.deploy.compose import (
    BACKENDS,
    Backend,
    container_command,
    container_environment,
    final_stage,
    run_config,
    service,
)
from tests.deploy.images import Stage, copy_image_files, relocate, workdir
from tests.deploy.programs import option

# Distinct, and none of them a default anywhere.
WORKERS = {backend.name: 5 + index for index, backend in enumerate(BACKENDS)}
# One `name = value` line per setting (gunicorn.config.Config.__str__).
SETTING = re.compile(r"^(?P<name>[a-z_]+) += (?P<value>.*)$", re.MULTILINE)


@pytest.fixture(scope="module")
def compose_with_workers(
    compose_binary: Path,
    repo_root: Path,
    provided: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The compose model when the caller sets each backend's <NAME>_WORKERS."""
    workers = {backend.workers_variable: str(WORKERS[backend.name]) for backend in BACKENDS}
    scratch = tmp_path_factory.mktemp("compose-workers")
    result = run_config(compose_binary, repo_root, scratch, {**provided, **workers})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda backend: backend.name)
def test_the_images_gunicorn_loads_the_application_with_the_workers_the_caller_asks_for(
    backend: Backend,
    compose_with_workers: dict[str, Any],
    jwt_key_file: Path,
    repo_root: Path,
    tmp_path: Path,
) -> None:
    definition = service(compose_with_workers, backend.name)
    stage = final_stage(definition)
    image_root, image_workdir = tmp_path / "image", workdir(stage)
    copy_image_files(stage, repo_root, image_root)
    env = {
        name: relocate(value, image_workdir, image_root)
        for name, value in container_environment(definition).items()
    }
    # What differs from the container: this machine's interpreter and the key's path. Neither
    # the database nor the broker is opened to load the application.
    env |= {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "JWT_PRIVATE_KEY_FILE": str(jwt_key_file),
    }
    argv = [relocate(arg, image_workdir, image_root) for arg in container_command(definition)]
    assert argv[0] == "gunicorn"
    # Prints the settings gunicorn resolved, then loads the application and exits: 0 when it
    # loaded.
    result = subprocess.run(
        [*argv, "--print-config"],
        cwd=relocate(str(image_workdir), image_workdir, image_root),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    settings = {match["name"]: match["value"] for match in SETTING.finditer(result.stdout)}
    assert int(settings["workers"]) == WORKERS[backend.name]
    assert settings["bind"] == repr([f"0.0.0.0:{backend.port}"])


def user_ids(stage: Stage) -> dict[str, str]:
    """The users the stage's RUN lines add (useradd), by name: their uids."""
    users = {}
    for command in shell_commands(stage):
        if command[0] == "useradd":
            users[command[-1]] = option(command, "--uid", "-u")
    return users


def shell_commands(stage: Stage) -> list[list[str]]:
    """Each simple command of the stage's RUN lines, split into words."""
    return [
        shlex.split(part)
        for run in stage.all("RUN")
        for line in run.value
        for part in line.split("&&")
    ]


@pytest.mark.parametrize(
    "backend", [backend for backend in BACKENDS if backend.beats], ids=lambda b: b.name
)
def test_the_beat_finds_a_folder_it_may_write_its_schedule_in(
    backend: Backend, compose_config: dict[str, Any]
) -> None:
    (name,) = backend.beats
    definition = service(compose_config, name)
    schedule = option(container_command(definition), "--schedule", "-s")
    assert schedule is not None, "celery beat would write its schedule where it starts"
    folder = str(PurePosixPath(schedule).parent)
    stage = final_stage(definition)
    commands = shell_commands(stage)
    assert any(command[0] == "mkdir" and folder in command for command in commands)
    user = stage.last("USER")
    assert user is not None
    uid = user.value[0].partition(":")[0]
    chowns = [command for command in commands if command[0] == "chown" and folder in command[2:]]
    assert chowns, f"{folder} stays root's"
    for command in chowns:
        owner = command[1].partition(":")[0]
        assert user_ids(stage).get(owner, owner) == uid, command
