"""LiveBackend starts a real monolith and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.live import LiveBackend, LiveBackendError, is_postgres_url

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _postgres_databases() -> set[str]:
    import psycopg

    admin_url = os.environ["MONOLITH_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def test_a_live_backend_serves_a_seeded_shop_and_leaves_nothing_behind():
    with LiveBackend(name="selftest", products=3, env={"SHOP_LIVE_MARKER": "1"}) as backend:
        pgid = backend.pid
        base_url = backend.base_url
        database_url = backend.database_url
        assert base_url == f"http://127.0.0.1:{backend.port}"
        assert backend.env["SHOP_LIVE_MARKER"] == "1"
        assert backend.env["MONOLITH_DATABASE_URL"] == database_url
        products = httpx.get(f"{base_url}/api/products", timeout=10).json()
        assert products["count"] == 3
        if is_postgres_url(database_url):
            assert urlsplit(database_url).path.endswith(f"_live_selftest_{backend.instance}")

    assert not _group_alive(pgid)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/healthz", timeout=2)
    if is_postgres_url(database_url):
        assert urlsplit(database_url).path.lstrip("/") not in _postgres_databases()
    else:
        assert not Path(urlsplit(database_url).path).parent.exists()


def test_a_backend_that_cannot_start_reports_the_tail_of_its_log(tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"

    with pytest.raises(LiveBackendError) as failure:
        LiveBackend(name="broken", database_url=unreachable).start()

    message = str(failure.value)
    assert "migrate exited" in message
    assert "last 60 log lines" in message
    assert "unable to open database file" in message
