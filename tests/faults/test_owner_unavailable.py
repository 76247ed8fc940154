"""The auth service, owner of the users at step 1-auth, becomes unavailable while clients use it
through the proxy: killed with SIGKILL (every process of it, as when its host dies), or cut off
from its database. Meanwhile the route the plan gives a fallback (`me`) is answered by the
monolith and writes get a JSON 503, never a 500; once it is back it serves again, and every
registration acknowledged to a client is on both backends, in parity."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from bench.write_load import WriteLoad
from tests.faults.shop_checks import a_json_503, nothing_was_lost
from tests.migration.auth_shop import PASSWORD, Shop, extract_auth

pytestmark = pytest.mark.integration

RECOVERY_SECONDS = 60


def _served_by(response: httpx.Response) -> str | None:
    return response.headers.get("X-Served-By")


@dataclass
class Customer:
    """A client of the proxy with a user of its own, logged in before the fault."""

    client: httpx.Client
    user_id: int
    bearer: dict[str, str]

    def me(self) -> httpx.Response:
        return self.client.get("/api/auth/me", headers=self.bearer)


@contextmanager
def _customers_at_work(shop: Shop) -> Iterator[Customer]:
    """Step 1-auth, a customer, and a load registering users and reading `me` (no refresh
    rotations: a rotation committed just before the kill, its answer lost, would leave the
    client a spent token). On exit: every load failure was a write refused with a JSON 503, and
    nothing acknowledged was lost."""
    extract_auth(shop)
    with (
        httpx.Client(base_url=shop.public_url, timeout=30) as client,
        WriteLoad(shop.public_url, clients=3, register_every=1.0, refresh=False) as load,
    ):
        user_id = shop.register(client, "customer")
        email = next(email for email, known in shop.users.items() if known == user_id)
        pair = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
        assert pair.status_code == 200, pair.text
        time.sleep(2)  # the load is under way when the fault strikes
        yield Customer(client, user_id, {"Authorization": f"Bearer {pair.json()['access']}"})
        time.sleep(2)  # and writes on the recovered owner
    report = load.report
    assert report.outcomes["register ok"] > 0, report.summary()
    for failure in report.failures:
        kind, answer = failure.split(": ", 1)
        assert kind in ("register", "login") and answer.startswith("503 {"), report.summary()
    nothing_was_lost(shop, {*shop.users.values(), *report.users.values()})


def _reads_fall_back_and_writes_get_a_json_503(customer: Customer) -> None:
    for _ in range(3):
        me = customer.me()
        assert me.status_code == 200, me.text
        assert me.json()["id"] == customer.user_id
        assert _served_by(me) == "monolith"
    registration = {"email": "while-down@example.com", "password": PASSWORD, "name": "Down"}
    a_json_503(customer.client.post("/api/auth/register", json=registration))
    login = {"email": "while-down@example.com", "password": PASSWORD}
    a_json_503(customer.client.post("/api/auth/token", json=login))


def _serves_again(shop: Shop, customer: Customer) -> None:
    shop.register(customer.client, "recovered")  # a 201: the owner takes writes again
    deadline = time.monotonic() + RECOVERY_SECONDS
    while _served_by(me := customer.me()) != "auth":
        # nginx tries a failed primary of a fallback group again after its fail_timeout.
        assert me.status_code == 200, me.text
        assert time.monotonic() < deadline, "the recovered owner is never routed to again"
        time.sleep(0.5)


@pytest.mark.timeout(300)
def test_a_killed_owner_falls_back_for_reads_refuses_writes_in_json_and_recovers(shop):
    with _customers_at_work(shop) as customer:
        shop.auth.crash()
        _reads_fall_back_and_writes_get_a_json_503(customer)
        jwks = customer.client.get("/.well-known/jwks.json")
        assert (jwks.status_code, _served_by(jwks)) == (200, "monolith")
        shop.auth.restart()
        _serves_again(shop, customer)


@pytest.mark.timeout(300)
def test_an_owner_cut_off_from_its_database_is_not_ready_and_answers_like_a_dead_one(
    shop_behind_database_fault, auth_database_fault
):
    shop = shop_behind_database_fault
    _url, fault = auth_database_fault
    with _customers_at_work(shop) as customer:
        fault.cut()
        ready = httpx.get(f"{shop.auth_url}/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert ready.json()["checks"]["database"] == "failing"
        _reads_fall_back_and_writes_get_a_json_503(customer)
        fault.restore()
        _serves_again(shop, customer)
    assert fault.refused > 0
