"""Where the internal token comes from: required in production, generated once under var/ in
development and found there by every backend and the CLI sharing that var/."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import environ
import pytest
from django.core.exceptions import ImproperlyConfigured

from strangler.cli.bootstrap import framework_settings
from strangler.errors import StranglerError
from strangler.service.internal_token import (
    development_token_file,
    internal_token_settings,
    presented_matches,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_urlsafe(32)


@pytest.fixture
def no_token_in_env(monkeypatch):
    monkeypatch.delenv("STRANGLER_INTERNAL_TOKEN", raising=False)
    monkeypatch.delenv("STRANGLER_INTERNAL_TOKEN_FILE", raising=False)


def _monolith_check(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`manage.py check` of the monolith in production, with only the variables it needs."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SHOP_ENV": "production",
        "SHOP_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SECRET_KEY": "a-production-secret-key-for-the-test",
        "JWT_PRIVATE_KEY_FILE": str(tmp_path / "jwt-private.pem"),
        "EMAIL_URL": "consolemail://",
        **variables,
    }
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "manage.py"), "check", "--fail-level", "ERROR"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration
def test_a_production_backend_refuses_to_start_without_an_internal_token(tmp_path):
    refused = _monolith_check(tmp_path)
    started = _monolith_check(tmp_path, STRANGLER_INTERNAL_TOKEN=TOKEN)

    assert refused.returncode != 0
    assert "STRANGLER_INTERNAL_TOKEN" in refused.stderr
    assert started.returncode == 0, started.stderr
    assert not development_token_file(tmp_path / "var").exists()


def test_production_refuses_a_token_short_enough_to_guess(tmp_path, no_token_in_env, monkeypatch):
    monkeypatch.setenv("STRANGLER_INTERNAL_TOKEN", "s3cret")

    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        internal_token_settings(environ.Env(), production=True, var_dir=tmp_path)


def test_production_reads_the_token_from_a_mounted_secret_file(
    tmp_path, no_token_in_env, monkeypatch
):
    secret = tmp_path / "internal_token"
    secret.write_text(TOKEN + "\n")
    monkeypatch.setenv("STRANGLER_INTERNAL_TOKEN_FILE", str(secret))

    settings = internal_token_settings(environ.Env(), production=True, var_dir=tmp_path)

    assert settings == {"STRANGLER_INTERNAL_TOKEN": TOKEN}


def test_a_token_that_cannot_travel_in_a_header_is_refused_at_start(
    tmp_path, no_token_in_env, monkeypatch
):
    monkeypatch.setenv("STRANGLER_INTERNAL_TOKEN", "jeton-privé-" + TOKEN)

    with pytest.raises(ImproperlyConfigured, match="printable ASCII"):
        internal_token_settings(environ.Env(), production=False, var_dir=tmp_path)


def test_development_backends_sharing_var_share_one_generated_private_token(
    tmp_path, no_token_in_env
):
    first = internal_token_settings(environ.Env(), production=False, var_dir=tmp_path)
    second = internal_token_settings(environ.Env(), production=False, var_dir=tmp_path)

    token_file = development_token_file(tmp_path)
    assert first == second == {"STRANGLER_INTERNAL_TOKEN": token_file.read_text()}
    assert len(first["STRANGLER_INTERNAL_TOKEN"]) >= 32
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_the_cli_without_a_project_finds_the_development_token_under_var(tmp_path, no_token_in_env):
    generated = internal_token_settings(environ.Env(), production=False, var_dir=tmp_path)
    env = {"STRANGLER_ROOT": str(REPO_ROOT), "STRANGLER_VAR_DIR": str(tmp_path)}

    found = framework_settings(env)["STRANGLER_INTERNAL_TOKEN"]

    assert found == generated["STRANGLER_INTERNAL_TOKEN"]


def test_the_cli_prefers_the_token_or_token_file_it_is_given(tmp_path, no_token_in_env):
    internal_token_settings(environ.Env(), production=False, var_dir=tmp_path)
    secret = tmp_path / "given"
    secret.write_text(TOKEN)
    env = {"STRANGLER_ROOT": str(REPO_ROOT), "STRANGLER_VAR_DIR": str(tmp_path)}

    from_file = framework_settings({**env, "STRANGLER_INTERNAL_TOKEN_FILE": str(secret)})
    given = framework_settings({**env, "STRANGLER_INTERNAL_TOKEN": "x" + TOKEN})

    assert from_file["STRANGLER_INTERNAL_TOKEN"] == TOKEN
    assert given["STRANGLER_INTERNAL_TOKEN"] == "x" + TOKEN


def test_the_cli_never_invents_a_token_and_names_a_missing_token_file(tmp_path):
    env = {"STRANGLER_ROOT": str(REPO_ROOT), "STRANGLER_VAR_DIR": str(tmp_path)}

    assert framework_settings(env)["STRANGLER_INTERNAL_TOKEN"] == ""
    assert not development_token_file(tmp_path).exists()
    with pytest.raises(StranglerError, match="STRANGLER_INTERNAL_TOKEN_FILE"):
        framework_settings({**env, "STRANGLER_INTERNAL_TOKEN_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize("presented", ["", "wrong", "jeton-privé", "\udcff", TOKEN + " "])
def test_any_other_presented_value_is_refused_without_raising(presented):
    assert presented_matches(TOKEN, presented) is False


def test_without_an_expected_token_every_caller_is_refused():
    assert presented_matches("", "") is False
    assert presented_matches(TOKEN, TOKEN) is True
