"""The Dockerfiles, checked without building them: hadolint for all, then the facts the monolith's
image relies on (what it copies exists in the build context, who it runs as, what it serves).
The proxy's image has its own module, test_proxy_image.py."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from tests.deploy.images import Stage, build_context_files, parse_stages, workdir

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_USERS = {"root", "0"}
# Explicit folders: a recursive glob from the root would walk .venv and var/.
DOCKERFILE_PATTERNS = (
    "monolith/Dockerfile",
    "extracted/*/Dockerfile",
    "proxy/Dockerfile",
    "deploy/**/Dockerfile*",
)


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


REPOSITORY_DOCKERFILES = [
    str(path.relative_to(REPO_ROOT)) for path in repository_dockerfiles(REPO_ROOT)
]


def test_hadolint_finds_nothing_to_fix_in_any_dockerfile(
    hadolint_binary: Path, monolith_dockerfile: Path, proxy_dockerfile: Path, repo_root: Path
) -> None:
    dockerfiles = repository_dockerfiles(repo_root)
    assert {monolith_dockerfile, proxy_dockerfile, repo_root / "extracted/auth/Dockerfile"} <= set(
        dockerfiles
    )
    result = subprocess.run(
        [str(hadolint_binary), "--no-color", *map(str, dockerfiles)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", REPOSITORY_DOCKERFILES)
def test_every_stage_builds_on_python_3_11_slim(dockerfile: str, repo_root: Path) -> None:
    external = [stage.base_image for stage in parse_stages(repo_root / dockerfile)]
    assert external
    assert all(image.startswith("python:3.11-slim") for image in external), external


@pytest.mark.parametrize("dockerfile", REPOSITORY_DOCKERFILES)
def test_every_copied_source_exists_and_is_not_dockerignored(
    dockerfile: str, repo_root: Path
) -> None:
    context = build_context_files(repo_root)
    sources = [
        source.rstrip("/")
        for stage in parse_stages(repo_root / dockerfile)
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


def test_the_image_installs_the_project_from_pyproject(monolith_stages: list[Stage]) -> None:
    builder = next(stage for stage in monolith_stages if stage.name == "build")
    copied = [source for command in builder.all("COPY") for source in command.value[:-1]]
    installs = [" ".join(command.value) for command in builder.all("RUN")]
    assert "pyproject.toml" in copied
    assert any(
        "pip install" in run and run.split()[-2:] == [".", "./domains"] for run in installs
    ), installs
    runtime = final_stage(monolith_stages)
    assert any(
        flag == "--from=build" and command.value[0] == "/opt/venv"
        for command in runtime.all("COPY")
        for flag in command.flags
    )


def test_the_image_runs_as_a_non_root_user(monolith_stages: list[Stage]) -> None:
    user = final_stage(monolith_stages).last("USER")
    assert user is not None, "the final stage never switches away from root"
    name, _, group = user.value[0].partition(":")
    assert name not in ROOT_USERS
    assert group not in ROOT_USERS


def test_the_image_checks_its_health_on_healthz(monolith_stages: list[Stage]) -> None:
    healthcheck = final_stage(monolith_stages).last("HEALTHCHECK")
    assert healthcheck is not None
    assert healthcheck.value[0] == "CMD"
    assert any("http://127.0.0.1:8000/healthz" in part for part in healthcheck.value[1:])


def test_the_image_serves_the_monolith_wsgi_application_on_all_interfaces(
    monolith_stages: list[Stage], repo_root: Path
) -> None:
    stage = final_stage(monolith_stages)
    cmd = stage.last("CMD")
    assert cmd is not None and cmd.json, "CMD must be exec form so gunicorn gets the signals"
    argv = list(cmd.value)
    assert argv[:2] == ["gunicorn", "shop.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8000"
    chdir = PurePosixPath(argv[argv.index("--chdir") + 1])
    # The directory gunicorn changes into inside the image must be the repository's monolith/,
    # copied there by the Dockerfile, and hold the WSGI module named in the CMD.
    copied_to = {
        workdir(stage) / command.value[-1]: command.value[0].rstrip("/")
        for command in stage.all("COPY")
        if not command.flags
    }
    source_dir = copied_to[workdir(stage) / chdir]
    wsgi_module = repo_root / source_dir / "shop" / "wsgi.py"
    assert wsgi_module.is_file()
    assert defines_name(wsgi_module, "application")
    assert any("8000" in command.value for command in stage.all("EXPOSE"))


def test_the_image_collects_the_static_files_that_whitenoise_serves(
    monolith_stages: list[Stage], repo_root: Path
) -> None:
    from strangler.service.backend import MIDDLEWARE

    assert "whitenoise.middleware.WhiteNoiseMiddleware" in MIDDLEWARE
    runs = [" ".join(command.value) for command in final_stage(monolith_stages).all("RUN")]
    assert any("manage.py collectstatic --noinput" in run for run in runs), runs
