"""The Dockerfiles, checked without building them: hadolint for all, then the facts the backends'
images rely on (what they copy exists in the build context, who they run as, what they serve), for
each image as compose builds it (the extracted services share deploy/service.Dockerfile, told
which service by build arguments). The proxy's image has its own module, test_proxy_image.py."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.deploy.compose import BACKENDS, IMAGES, Backend
from tests.deploy.images import (
    Image,
    Stage,
    build_context_files,
    environment,
    repository_path,
    run_argv,
    workdir,
)
from tests.deploy.programs import option

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_USERS = {"root", "0"}
# Explicit folders: a recursive glob from the root would walk .venv and var/.
DOCKERFILE_PATTERNS = (
    "monolith/Dockerfile",
    "extracted/*/Dockerfile",
    "proxy/Dockerfile",
    "deploy/**/Dockerfile*",
    "deploy/**/*.Dockerfile",
)
BACKEND_IDS = [backend.name for backend in BACKENDS]


def final_stage(stages: list[Stage]) -> Stage:
    return stages[-1]


def defines_name(source: Path, name: str) -> bool:
    tree = ast.parse(source.read_text())
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            return True
    return False


def repository_dockerfiles(repo_root: Path) -> list[Path]:
    return sorted({path for pattern in DOCKERFILE_PATTERNS for path in repo_root.glob(pattern)})


def backend_stages(backend: Backend) -> list[Stage]:
    return backend.image.stages(REPO_ROOT)


def served_argv(stage: Stage) -> list[str]:
    """What the image runs by default, as its container's shell would run it."""
    cmd = stage.last("CMD")
    assert cmd is not None and cmd.json, "CMD must be exec form so gunicorn gets the signals"
    return run_argv(cmd.value, environment(stage))


def test_hadolint_finds_nothing_to_fix_in_any_dockerfile(
    hadolint_binary: Path, repo_root: Path
) -> None:
    dockerfiles = repository_dockerfiles(repo_root)
    assert {repo_root / image.dockerfile for image in IMAGES} <= set(dockerfiles)
    result = subprocess.run(
        [str(hadolint_binary), "--no-color", *map(str, dockerfiles)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dockerfile_in_the_repository_is_one_that_compose_builds(repo_root: Path) -> None:
    # The checks below run on the images compose builds: a Dockerfile no image uses would escape
    # them (and be dead).
    built = {repo_root / image.dockerfile for image in IMAGES}
    assert set(repository_dockerfiles(repo_root)) == built


@pytest.mark.parametrize("image", IMAGES, ids=lambda image: image.name)
def test_every_stage_builds_on_python_3_11_slim(image: Image, repo_root: Path) -> None:
    external = [stage.base_image for stage in image.stages(repo_root)]
    assert external
    assert all(image.startswith("python:3.11-slim") for image in external), external


@pytest.mark.parametrize("image", IMAGES, ids=lambda image: image.name)
def test_every_copied_source_exists_and_is_not_dockerignored(image: Image, repo_root: Path) -> None:
    context = build_context_files(repo_root)
    sources = [
        source.rstrip("/")
        for stage in image.stages(repo_root)
        for command in stage.all("COPY")
        if not any(flag.startswith("--from=") for flag in command.flags)
        for source in command.value[:-1]
    ]
    assert sources
    for source in sources:
        assert (repo_root / source).exists(), f"COPY source {source} is not in the repository"
        assert source in context, f"COPY source {source} is excluded by .dockerignore"


def test_local_state_and_secrets_stay_out_of_the_build_context(
    repo_root: Path, tmp_path: Path
) -> None:
    # exclude_paths only lists files that exist, so the patterns are tried on a scratch tree.
    kept = [
        "pyproject.toml",
        "manage.py",
        "monolith/shop/wsgi.py",
        "strangler/__init__.py",
        "extracted/auth/manage.py",
        "extracted/catalog/manage.py",
        "extracted/orders/manage.py",
        "deploy/gunicorn.conf.py",
        "migration-plan/plan.yaml",
        "strangler/proxy/templates/nginx.conf.j2",
        "strangler/proxy/lua/strangler.lua",
    ]
    dropped = [
        ".git/config",
        ".venv/bin/python",
        ".env",
        "var/monolith.sqlite3",
        "var/keys/jwt-private.pem",
        "deploy/secrets/jwt-private.pem",
        "extracted/auth/.env",
        "monolith/.env.production",
        "monolith/shop/__pycache__/wsgi.cpython-311.pyc",
        "bench/results/monolith.json",
    ]
    for relative in kept + dropped:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    (tmp_path / ".dockerignore").write_text((repo_root / ".dockerignore").read_text())
    context = build_context_files(tmp_path)
    assert set(kept) <= context
    assert not context & set(dropped)


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_the_image_installs_the_project_from_pyproject(backend: Backend) -> None:
    stages = backend_stages(backend)
    builder = next(stage for stage in stages if stage.name == "build")
    copied = [source for command in builder.all("COPY") for source in command.value[:-1]]
    installs = [" ".join(command.value) for command in builder.all("RUN")]
    assert "pyproject.toml" in copied
    assert any(
        "pip install" in run and run.split()[-2:] == [".", "./domains"] for run in installs
    ), installs
    runtime = final_stage(stages)
    assert any(
        flag == "--from=build" and command.value[0] == "/opt/venv"
        for command in runtime.all("COPY")
        for flag in command.flags
    )


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_the_image_runs_as_a_non_root_user(backend: Backend) -> None:
    user = final_stage(backend_stages(backend)).last("USER")
    assert user is not None, "the final stage never switches away from root"
    name, _, group = user.value[0].partition(":")
    assert name not in ROOT_USERS
    assert group not in ROOT_USERS


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_the_image_checks_its_health_on_healthz(backend: Backend) -> None:
    stage = final_stage(backend_stages(backend))
    healthcheck = stage.last("HEALTHCHECK")
    assert healthcheck is not None
    assert healthcheck.value[0] == "CMD"
    probe = run_argv(healthcheck.value[1:], environment(stage))
    assert any(f"http://127.0.0.1:{backend.port}/healthz" in part for part in probe), probe


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_the_image_serves_the_backends_wsgi_application_on_all_interfaces(
    backend: Backend, repo_root: Path
) -> None:
    stage = final_stage(backend_stages(backend))
    argv = served_argv(stage)
    assert argv[:2] == ["gunicorn", f"{backend.project}.wsgi:application"]
    assert option(argv, "--bind", "-b") == f"0.0.0.0:{backend.port}"
    # The directory gunicorn imports from inside the image (its working directory, or --chdir)
    # must be a repository folder the Dockerfile copies there, holding the WSGI module named in
    # the command.
    folder = repository_path(stage, workdir(stage) / (option(argv, "--chdir") or "."))
    assert folder is not None, "nothing is copied where gunicorn imports from"
    wsgi_module = repo_root / folder / backend.project / "wsgi.py"
    assert wsgi_module.is_file()
    assert defines_name(wsgi_module, "application")
    assert any(str(backend.port) in command.value for command in stage.all("EXPOSE"))


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_the_image_collects_the_static_files_that_whitenoise_serves(backend: Backend) -> None:
    from strangler.service.backend import MIDDLEWARE

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in MIDDLEWARE
    runs = [" ".join(command.value) for command in final_stage(backend_stages(backend)).all("RUN")]
    assert any("manage.py collectstatic --noinput" in run for run in runs), runs
