"""The sync's own processes killed with SIGKILL in the middle of a batch, each held there by a
table lock the test takes: the monolith's outbox relay after it published a batch and before it
marked it sent, and the auth service's consumer while it applies one. Once restarted, the relay
publishes the batch again and the copy ignores what it already holds; the batch the dead consumer
never acknowledged is handed to its successor by Redis; every event is applied once, nothing is
lost, parity is clean."""

from __future__ import annotations

import httpx
import pytest

from strangler.sync.client import BackendSync
from tests.contract.api import eventually
from tests.faults.conftest import REDELIVERY_SECONDS
from tests.faults.databases import inbox, outbox_after, table_locked, waiting_at
from tests.faults.shop_checks import nothing_was_lost
from tests.migration.auth_shop import Shop, broker_url, parity_is_clean
from tests.support.broker import sync_messages_held

pytestmark = pytest.mark.integration

USERS_PER_BATCH = 5
# Long enough for a loaded machine; a redelivery takes REDELIVERY_SECONDS plus kombu's sweep.
WAIT_SECONDS = 60


def _register(shop: Shop, tag: str) -> None:
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        for _ in range(USERS_PER_BATCH):
            shop.register(client, tag)


@pytest.mark.timeout(300)
def test_a_relay_and_a_consumer_killed_mid_batch_lose_nothing_and_apply_nothing_twice(
    shop_redelivering_quickly,
):
    shop = shop_redelivering_quickly
    backfill = shop.strangle("backfill", "auth")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    parity_is_clean(shop)
    owner = BackendSync("monolith", shop.monolith_url)
    owner_db, copy_db = shop.monolith.database_url, shop.auth.database_url
    assert owner_db and copy_db
    start = owner.status().outbox.last_id

    # The relay, killed after publishing a batch and before marking it sent.
    shop.monolith.stop_relay()
    _register(shop, "relayed")
    batch = outbox_after(owner_db, start)
    with table_locked(owner_db, "strangler_outboxevent"):
        shop.monolith.start_relay()
        assert eventually(lambda: waiting_at(owner_db, 'UPDATE "strangler_outboxevent"'))
        assert eventually(lambda: batch <= inbox(copy_db).keys()), "the batch was not published"
        shop.monolith.stop_relay(kill=True)
    assert owner.status().outbox.pending == len(batch)  # so the next relay publishes it again
    shop.monolith.start_relay()
    assert eventually(lambda: owner.status().outbox.pending == 0, timeout=WAIT_SECONDS)

    # The consumer, killed while it applies a batch the relay published once and for all.
    relayed = owner.status().outbox.last_id
    with table_locked(copy_db, "strangler_aggregateversion"):
        _register(shop, "consumed")
        assert eventually(lambda: waiting_at(copy_db, "strangler_aggregateversion"))
        assert eventually(lambda: owner.status().outbox.pending == 0)
        held = outbox_after(owner_db, relayed)
        shop.auth.stop_sync_consumer(kill=True)
    # Its transaction died with it, and its batch is not acknowledged: only Redis has it now.
    assert not held & inbox(copy_db).keys()
    assert sync_messages_held(broker_url(), "auth") > 0
    shop.auth.start_sync_consumer()
    assert eventually(
        lambda: held <= inbox(copy_db).keys(), timeout=WAIT_SECONDS + REDELIVERY_SECONDS
    )

    # Every event of both batches reached the copy once (the inbox keeps one row per event,
    # and a redelivered event already there is not applied again), none refused.
    received = inbox(copy_db)
    events = outbox_after(owner_db, start)
    assert events <= received.keys()
    assert {received[event] for event in events} <= {"applied", "stale"}
    nothing_was_lost(shop, set(shop.users.values()))
    assert sync_messages_held(broker_url(), "auth") == 0
