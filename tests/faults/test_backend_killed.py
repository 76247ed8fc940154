"""The auth service, owner of the users at step 1-auth, killed with SIGKILL (every process of it,
as when its host dies) while clients use it through the proxy: the routes the plan gives a
fallback (`me`, JWKS) are answered by the monolith, writes get a JSON 503, and once the service
is restarted it serves again, with every acknowledged registration on both backends."""

from __future__ import annotations

import time

import httpx
import pytest

from bench.write_load import WriteLoad
from tests.faults.shop_checks import a_json_503, nothing_was_lost
from tests.migration.auth_shop import PASSWORD, Shop, extract_auth

pytestmark = pytest.mark.integration

RECOVERY_SECONDS = 60


def _served_by(response: httpx.Response) -> str | None:
    return response.headers.get("X-Served-By")


def _bearer(shop: Shop, client: httpx.Client) -> tuple[int, dict[str, str]]:
    user_id = shop.register(client, "killed")
    email = next(email for email, known in shop.users.items() if known == user_id)
    pair = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
    assert pair.status_code == 200, pair.text
    return user_id, {"Authorization": f"Bearer {pair.json()['access']}"}


@pytest.mark.timeout(300)
def test_a_killed_owner_falls_back_for_reads_refuses_writes_in_json_and_recovers(shop):
    extract_auth(shop)
    with (
        httpx.Client(base_url=shop.public_url, timeout=30) as client,
        WriteLoad(
            shop.public_url, clients=3, register_every=1.0, pause=0.05, refresh=False
        ) as load,
    ):
        user_id, bearer = _bearer(shop, client)
        time.sleep(2)  # the load is under way: the kill cuts requests short
        shop.auth.crash()

        me = client.get("/api/auth/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json()["id"] == user_id
        assert _served_by(me) == "monolith"
        jwks = client.get("/.well-known/jwks.json")
        assert jwks.status_code == 200 and _served_by(jwks) == "monolith"
        refused = client.post(
            "/api/auth/register",
            json={"email": "while-down@example.com", "password": PASSWORD, "name": "Down"},
        )
        a_json_503(refused)
        a_json_503(client.post("/api/auth/token/refresh", json={"refresh": "x" * 40}))

        shop.auth.restart()
        shop.register(client, "restarted")
        deadline = time.monotonic() + RECOVERY_SECONDS
        while _served_by(me := client.get("/api/auth/me", headers=bearer)) != "auth":
            # nginx retries a failed primary of a fallback group after its fail_timeout.
            assert time.monotonic() < deadline, "the restarted service is never routed to again"
            assert me.status_code == 200, me.text
            time.sleep(0.5)
        time.sleep(2)  # the load writes on the restarted service too

    report = load.report
    # Reads never failed (the monolith answered while the service was down); writes cut short by
    # the kill or sent while it was down were refused with a JSON 503, never a 500.
    assert report.outcomes["register ok"] > 0, report.summary()
    for failure in report.failures:
        kind, answer = failure.split(": ", 1)
        assert kind in ("register", "login") and answer.startswith("503 {"), report.summary()
    nothing_was_lost(shop, {*shop.users.values(), *report.users.values()})
