"""What an operator meets when a flip goes wrong, on real backends behind real nginx: a copy
that drifted (repaired from the owner), a handover cut short (explained by `status`, completed
by the next `apply`), and an owner that died (`rollback` refuses, `rollback --force` moves the
writes without it and records what may be lost)."""

from __future__ import annotations

import json
import uuid

import httpx
import psycopg
import pytest

from strangler.sync.client import BackendSync
from tests.migration.auth_shop import PASSWORD, Shop, flip, parity_is_clean

pytestmark = pytest.mark.integration


def _prepare(shop: Shop) -> None:
    backfill = shop.strangle("backfill", "auth")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        for n in range(3):
            shop.register(client, f"fail{n}")
    parity_is_clean(shop)


def _register_through_the_proxy(shop: Shop) -> httpx.Response:
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        return client.post(
            "/api/auth/register",
            json={
                "email": f"x-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "name": "X",
            },
        )


def _execute(database_url: str, sql: str, params: list) -> None:
    if database_url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
            connection.execute(sql.replace("%s", "?"), params)
        return
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as connection:
        connection.execute(sql, params)


@pytest.mark.timeout(300)
def test_parity_repair_rewrites_a_drifted_copy_from_the_owner_and_says_what_it_changed(shop):
    _prepare(shop)
    user_id = next(iter(shop.users.values()))
    _execute(
        shop.auth.database_url,
        "UPDATE accounts_user SET name = %s WHERE id = %s",
        ["Drift", user_id],
    )
    drifted = shop.strangle("parity", "auth", "--json")
    assert drifted.returncode != 0
    assert user_id in json.loads(drifted.stdout)["aggregates"][0]["different"]

    repaired = shop.strangle("parity", "auth", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"repaired user on auth: rewrote 1 rows from monolith ({user_id})" in repaired.stdout
    assert "parity of auth: clean" in repaired.stdout


@pytest.mark.timeout(300)
def test_a_handover_cut_short_is_explained_by_status_and_completed_by_apply(shop):
    _prepare(shop)
    monolith = BackendSync("monolith", shop.monolith_url)
    auth = BackendSync("auth", shop.auth_url)
    # What a CLI killed after fencing leaves: both backends hold the writes of auth.
    auth.set_ownership("auth", owner="monolith", state="handover")
    monolith.fence("auth", owner="monolith", after=0)

    status = shop.strangle("status")
    assert "HANDOVER in progress, or interrupted" in status.stdout, status.stdout

    completed = shop.strangle("apply", "1-auth")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "settled an interrupted or forced handover" in completed.stdout
    created = _register_through_the_proxy(shop)
    assert created.status_code == 201, created.text
    assert created.headers["X-Served-By"] == "auth"
    parity_is_clean(shop)


@pytest.mark.timeout(300)
def test_rollback_without_the_owner_is_refused_and_forced_names_what_may_be_lost(shop, tmp_path):
    _prepare(shop)
    flip(shop, "apply", "1-auth")
    assert _register_through_the_proxy(shop).status_code == 201
    parity_is_clean(shop)
    shop.auth.crash()

    refused = shop.strangle("rollback")
    assert refused.returncode != 0
    assert "rollback --force" in refused.stderr, refused.stderr

    forced = shop.strangle("rollback", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "may be lost" in forced.stdout or "FORCED" in forced.stdout, forced.stdout
    journals = list((tmp_path / "proxy").rglob("forced-auth-*.json"))
    assert len(journals) == 1, forced.stdout
    record = json.loads(journals[0].read_text())
    assert record["lost_owner"] == "auth" and record["new_owner"] == "monolith"

    created = _register_through_the_proxy(shop)
    assert created.status_code == 201, created.text
    assert created.headers["X-Served-By"] == "monolith"
