"""The auth service's sync consumer stops while users keep registering on the monolith: their
events wait in the broker, and once the consumer is back the copy catches up, losing nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest

from strangler.sync.backfill import backfill
from strangler.sync.client import BackendSync
from strangler.sync.flip import check_parity
from tests.migration.auth_shop import PASSWORD, broker_url
from tests.migration.harness import free_port
from tests.support.broker import empty_sync_queues
from tests.support.live import AUTH, LiveBackend

pytestmark = pytest.mark.integration


def _register(client: httpx.Client, count: int) -> list[int]:
    ids = []
    for n in range(count):
        email = f"outage{n}-{uuid.uuid4().hex[:8]}@example.com"
        response = client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "name": "O"}
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def test_events_written_while_the_consumer_is_down_are_applied_when_it_returns(tmp_path):
    monolith_port, auth_port = free_port(), free_port()
    broker = broker_url()
    empty_sync_queues(broker, ["monolith", "auth"])
    shared = {
        "SHOP_VAR_DIR": str(tmp_path / "var"),
        "CELERY_BROKER_URL": broker,
        "MONOLITH_URL": f"http://127.0.0.1:{monolith_port}",
        "AUTH_URL": f"http://127.0.0.1:{auth_port}",
    }
    with (
        LiveBackend(name="o_monolith", env=shared, sync=True, port=monolith_port) as monolith,
        LiveBackend(name="o_auth", project=AUTH, env=shared, sync=True, port=auth_port) as auth,
        httpx.Client(base_url=monolith.base_url, timeout=30) as client,
    ):
        owner = BackendSync("monolith", monolith.base_url)
        copy = BackendSync("auth", auth.base_url)
        # The seeded staff user and customer predate the sync: a backfill copies them.
        backfill(
            domain="auth",
            aggregates=["user", "refresh_token"],
            source=owner,
            target=copy,
            checkpoint_file=tmp_path / "backfill.json",
        )
        _register(client, 3)
        assert all(p.clean for p in check_parity(domain="auth", left=owner, right=copy))

        auth.stop_sync_consumer()
        written_meanwhile = _register(client, 8)
        stalled = check_parity(domain="auth", left=owner, right=copy, attempts=2)
        users = next(p for p in stalled if p.aggregate == "user")
        assert set(written_meanwhile) <= set(users.only_left)
        assert owner.status().outbox.pending == 0  # relayed: waiting in the broker

        auth.start_sync_consumer()
        caught_up = check_parity(domain="auth", left=owner, right=copy, attempts=60, pause=0.5)
        assert all(p.clean for p in caught_up), caught_up
