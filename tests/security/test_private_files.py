"""What the framework writes under var/ that holds a secret, or gives one away, is readable by
its owner only (0600), in folders it creates for its owner only (0700): the JWT signing key,
the internal token, the proxy's admin token, the SQLite databases (password hashes), the
backfill checkpoints and the forced-rollback journals."""

import os
import stat
from pathlib import Path

import pytest
from django.db.utils import ConnectionHandler

from strangler.proxy.nginx import Nginx
from strangler.proxy.site import Site
from strangler.service import keys
from strangler.service.config import database_settings
from strangler.service.internal_token import development_token_file, find_token
from strangler.service.secret_files import private_directory
from strangler.sync.backfill import _save_checkpoint
from strangler.sync.flip import _write_journal
from tests.migration.harness import REPO_ROOT


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """The usual umask (022), under which anything not made private would be world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_generated_jwt_signing_key_and_its_folder_are_private(settings, tmp_path):
    key_file = tmp_path / "var" / "keys" / "jwt-private.pem"
    settings.PRODUCTION = False
    settings.JWT_PRIVATE_KEY = ""
    settings.JWT_PRIVATE_KEY_FILE = str(key_file)
    keys.signing_key.cache_clear()
    try:
        keys.signing_key()
    finally:
        keys.signing_key.cache_clear()

    assert mode(key_file) == 0o600
    assert mode(key_file.parent) == 0o700


def test_the_generated_internal_token_and_its_folder_are_private(tmp_path):
    token_file = development_token_file(tmp_path / "var")

    find_token(token="", token_file="", development_file=token_file, generate=True)

    assert mode(token_file) == 0o600
    assert mode(token_file.parent) == 0o700


def test_the_proxys_admin_token_is_private(tmp_path):
    site = Site.from_env({"STRANGLER_ROOT": str(REPO_ROOT), "STRANGLER_VAR_DIR": str(tmp_path)})

    Nginx(site).prepare()

    assert mode(site.token_path) == 0o600


def test_a_sqlite_database_and_its_write_ahead_log_are_created_private(tmp_path):
    database = tmp_path / "auth.sqlite3"
    wrapper = ConnectionHandler({"default": database_settings(f"sqlite:///{database}")})["default"]
    # Straight to the connection: pytest-django blocks ensure_connection outside django_db.
    sqlite = wrapper.get_new_connection(wrapper.get_connection_params())
    try:
        sqlite.execute("PRAGMA journal_mode=WAL")
        sqlite.execute("CREATE TABLE t (x)")
        sqlite.commit()
        assert mode(database) == 0o600
        assert mode(database.with_name("auth.sqlite3-wal")) == 0o600
    finally:
        sqlite.close()


def test_an_existing_sqlite_database_keeps_its_mode(tmp_path):
    database = tmp_path / "shared.sqlite3"
    database.touch(mode=0o640)
    wrapper = ConnectionHandler({"default": database_settings(f"sqlite:///{database}")})["default"]

    wrapper.get_new_connection(wrapper.get_connection_params()).close()

    assert mode(database) == 0o640


def test_backfill_checkpoints_and_forced_rollback_journals_are_private(tmp_path):
    state = tmp_path / "var" / "strangler"
    checkpoint = state / "backfill-auth.json"

    _save_checkpoint(checkpoint, {"user": 42})
    journal = _write_journal(state, {"domain": "auth", "lost_owner": "monolith"})

    assert checkpoint.read_text() == '{"user": 42}'
    assert (mode(checkpoint), mode(journal), mode(state)) == (0o600, 0o600, 0o700)


def test_a_folder_that_already_exists_keeps_its_mode(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)

    private_directory(shared)

    assert mode(shared) == 0o755
