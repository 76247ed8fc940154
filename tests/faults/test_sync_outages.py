"""A server the sync needs is unreachable for 30 s while clients register users on the monolith
(the owner at step 0-monolith): the broker (every backend, worker and relay reaches it through a
fault proxy), or the database of the auth service (the copy). The writes keep succeeding, their
events wait (in the owner's outbox, or in the broker while the copy's consumers retry), and once
the server is back they reach the copy: every acknowledged user is on both backends, and parity
is clean."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import pytest

from bench.write_load import WriteLoad
from strangler.sync.client import BackendSync
from tests.faults.shop_checks import nothing_was_lost
from tests.migration.auth_shop import Shop, parity_is_clean
from tests.support.faults import FaultProxy

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 30


@dataclass(frozen=True)
class Outage:
    shop: Shop
    fault: FaultProxy
    check: str  # what the readiness of `seen_by` reports failing meanwhile
    seen_by: str  # the backend's URL
    events_wait_in_the_outbox: bool


@pytest.fixture(params=["broker", "copy-database"])
def outage(request) -> Outage:
    if request.param == "broker":
        shop = request.getfixturevalue("shop_behind_broker_fault")
        fault = request.getfixturevalue("broker_fault")
        return Outage(shop, fault, "broker", shop.monolith_url, events_wait_in_the_outbox=True)
    shop = request.getfixturevalue("shop_behind_database_fault")
    _url, fault = request.getfixturevalue("auth_database_fault")
    return Outage(shop, fault, "database", shop.auth_url, events_wait_in_the_outbox=False)


@pytest.mark.timeout(300)
def test_writes_go_on_while_a_server_of_the_sync_is_away_and_the_copy_catches_up_after(outage):
    shop = outage.shop
    backfill = shop.strangle("backfill", "auth")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    parity_is_clean(shop)
    owner = BackendSync("monolith", shop.monolith_url)

    with WriteLoad(
        shop.public_url, clients=2, register_every=0.5, pause=0.05, refresh=False
    ) as load:
        time.sleep(2)
        outage.fault.cut()
        time.sleep(OUTAGE_SECONDS)
        ready = httpx.get(f"{outage.seen_by}/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert ready.json()["checks"][outage.check] == "failing"
        if outage.events_wait_in_the_outbox:
            assert owner.status().outbox.pending > 0
        outage.fault.restore()
        time.sleep(2)  # writes go on once the server is back

    assert outage.fault.refused > 0, "nothing went through the fault proxy"
    report = load.report
    assert report.failures == [], report.summary()
    assert report.outcomes["register ok"] >= OUTAGE_SECONDS, report.summary()
    nothing_was_lost(shop, set(report.users.values()))
    assert owner.status().outbox.pending == 0
