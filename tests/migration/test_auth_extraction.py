"""Step 1-auth end to end: the monolith and the auth service, each with its own database, sync
consumers and outbox relay, behind real nginx. Users are created, backfilled and checked for
parity; the step is applied, then rolled back and applied again four times under a write-heavy
load (refresh rotations and registrations); no request may fail or take 3 s, parity must be
clean after every flip, and passwords changed in the admin on either side of a flip must be the
only ones that work afterwards, everywhere."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.write_load import WriteLoad
from tests.migration.auth_shop import (
    PASSWORD,
    Shop,
    contract_holds_through_the_proxy,
    flip,
    parity_is_clean,
    running_shop,
)
from tests.support.admin import AdminSession

pytestmark = pytest.mark.integration

STAFF_EMAIL, STAFF_PASSWORD = "admin@shop.local", "admin-pass-1234"  # seeded in development
CLI_TIMEOUT = 180


def _every_user_logs_in_and_is_known_everywhere(shop: Shop, *, sample: int | None = None) -> None:
    """Each user (or an even sample of them) logs in through the proxy, and the token is
    accepted by both backends directly."""
    users = sorted(shop.users.items())
    if sample and len(users) > sample:
        users = users[:: len(users) // sample]
    with (
        httpx.Client(base_url=shop.public_url, timeout=30) as proxy,
        httpx.Client(timeout=30) as direct,
    ):
        for email, user_id in users:
            pair = proxy.post("/api/auth/token", json={"email": email, "password": PASSWORD})
            assert pair.status_code == 200, (email, pair.text)
            bearer = {"Authorization": f"Bearer {pair.json()['access']}"}
            for base_url in (shop.monolith_url, shop.auth_url):
                me = direct.get(f"{base_url}/api/auth/me", headers=bearer)
                assert me.status_code == 200, (email, base_url, me.text)
                assert me.json()["id"] == user_id
            time.sleep(0.1)  # the proxy limits logins per client address
        for access in shop.tokens[:: max(1, len(shop.tokens) // 20)]:
            me = proxy.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"})
            assert me.status_code == 200, me.text


def _logs_in(shop: Shop, base_url: str, email: str, password: str) -> int:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return client.post(
            "/api/auth/token", json={"email": email, "password": password}
        ).status_code


def _password_set_in_the_admin_is_the_only_one_that_works(
    shop: Shop, email: str, old: str, new: str
) -> None:
    for base_url in (shop.public_url, shop.monolith_url, shop.auth_url):
        assert _logs_in(shop, base_url, email, new) == 200, (email, base_url)
        assert _logs_in(shop, base_url, email, old) == 401, (email, base_url)
        time.sleep(0.2)  # the proxy limits logins per client address


@pytest.fixture
def shop(tmp_path) -> Iterator[Shop]:
    """The shop with the plan as shipped: its first flip waits for `strangle verify`."""
    yield from running_shop(tmp_path, contract_gate=True)


@pytest.mark.timeout(900)
def test_auth_moves_back_and_forth_under_a_write_heavy_load_losing_nothing(shop):
    shop.create_legacy_users(10)
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        for n in range(5):
            shop.register(client, f"before{n}")

    # Users the live sync never saw: the copy is not in parity, so the flip is refused.
    refused = shop.strangle("apply", "1-auth")
    assert refused.returncode != 0
    assert "parity" in refused.stderr
    assert "Traceback" not in refused.stderr
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        assert client.get("/api/auth/me").headers.get("X-Served-By") == "monolith"

    assert "contract: the contract suite never ran at 0-monolith" in refused.stderr
    backfill = shop.strangle("backfill", "auth")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    parity_is_clean(shop)
    # As an operator (or the migration workflow) does before a flip: the contract suite at the
    # current step, recorded for the verdict.
    assert "PASS: contract suite at step 0-monolith" in shop.strangled("verify")
    status = json.loads(shop.strangled("status", "--json"))
    assert status["next"]["can_flip"] is True, status["next"]

    (before_email, before_id), (after_email, after_id) = sorted(shop.users.items())[:2]
    with AdminSession(shop.public_url, app_label="accounts") as admin:
        admin.log_in(email=STAFF_EMAIL, password=STAFF_PASSWORD)
        admin.change_password(user_id=before_id, password="set-before-the-move")

    # Half of the requests are writes (refresh rotations, some registrations), from clients
    # whose token chains cross every flip.
    with WriteLoad(shop.public_url, clients=8, register_every=10.0, pause=0.02) as load:
        time.sleep(2)
        pauses = [flip(shop, "apply", "1-auth")]
        with AdminSession(shop.public_url, app_label="accounts") as admin:
            admin.log_in(email=STAFF_EMAIL, password=STAFF_PASSWORD)
            message = admin.change_password(user_id=after_id, password="set-after-the-move")
        assert "Saved on auth" in message, message
        parity_is_clean(shop)
        for _ in range(4):
            time.sleep(2)
            pauses.append(flip(shop, "rollback"))
            parity_is_clean(shop)
            time.sleep(2)
            pauses.append(flip(shop, "apply", "1-auth"))
            parity_is_clean(shop)
        time.sleep(2)
    report = load.report
    assert report.failures == [], report.summary()
    assert max(report.latencies) < 3.0, (report.summary(), pauses)
    assert max(pauses) <= 2.0, pauses
    assert report.outcomes["refresh ok"] > 100, report.summary()
    assert report.outcomes["register ok"] >= 8, report.summary()

    shop.users.update(report.users)
    shop.tokens.extend(report.access_tokens[:: max(1, len(report.access_tokens) // 40)])
    assert len(set(shop.users.values())) == len(shop.users), "an id was given out twice"
    parity_is_clean(shop)
    _password_set_in_the_admin_is_the_only_one_that_works(
        shop, before_email, PASSWORD, "set-before-the-move"
    )
    _password_set_in_the_admin_is_the_only_one_that_works(
        shop, after_email, PASSWORD, "set-after-the-move"
    )
    del shop.users[before_email], shop.users[after_email]
    _every_user_logs_in_and_is_known_everywhere(shop, sample=25)
    contract_holds_through_the_proxy(shop, "test_auth.py", "test_cart_orders.py")
