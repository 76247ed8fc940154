"""A shop of two real backends (the monolith and the auth service, each with its database, sync
consumers and relay) behind real nginx, as the auth extraction's integration tests use it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.write_load import PASSWORD
from strangler.sync.flip import OwnershipHandover
from tests.migration.harness import REPO_ROOT, SHOP_PLAN, RunningProxy, free_port, shop_plan_gated
from tests.support.broker import empty_sync_queues, shop_broker_url
from tests.support.live import AUTH, LiveBackend

CLI_TIMEOUT = 180
CONTRACT_TIMEOUT = 300


# The Redis database of the test shops (SHOP_TEST_REDIS_DB overrides it): see shop_broker_url.
REDIS_DB = 7


def broker_url() -> str:
    """The suite's broker (Redis or RabbitMQ in CI), else a filesystem broker of each shop's own
    (under its SHOP_VAR_DIR)."""
    return shop_broker_url(redis_db=REDIS_DB)


@dataclass
class Shop:
    """What the load and the checks need: the proxy and each backend's own address."""

    public_url: str
    monolith_url: str
    auth_url: str
    cli_env: dict[str, str]
    monolith: LiveBackend
    auth: LiveBackend
    users: dict[str, int] = field(default_factory=dict)  # email -> id
    tokens: list[str] = field(default_factory=list)

    def strangle(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), "strangle", *args],
            cwd=REPO_ROOT,
            env=self.cli_env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )

    def strangled(self, *args: str) -> str:
        """Runs a strangle command that must succeed; what it printed."""
        done = self.strangle(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def register(self, client: httpx.Client, tag: str) -> int:
        email = f"{tag}-{uuid.uuid4().hex[:10]}@example.com"
        response = client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "name": tag}
        )
        assert response.status_code == 201, response.text
        self.users[email] = response.json()["id"]
        return response.json()["id"]

    def create_legacy_users(self, count: int) -> None:
        """Users written straight to the monolith's tables, without outbox events: the data a
        monolith already holds when its sync is switched on, which only a backfill copies."""
        emails = [f"legacy{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(count)]
        self.monolith.manage(
            "shell",
            "-c",
            "from django.contrib.auth.hashers import make_password\n"
            "from django.db import connection\n"
            "from django.utils import timezone\n"
            f"hashed = make_password({PASSWORD!r})\n"
            "with connection.cursor() as cursor:\n"
            f"    for email in {emails!r}:\n"
            "        cursor.execute('INSERT INTO accounts_user (password, is_superuser, email, "
            "name, is_staff, is_active, date_joined) VALUES (%s, false, %s, %s, false, true, %s)',"
            " [hashed, email, 'Legacy', timezone.now()])",
        )
        with httpx.Client(base_url=self.monolith_url, timeout=30) as client:
            for email in emails:
                pair = client.post("/api/auth/token", json={"email": email, "password": PASSWORD})
                assert pair.status_code == 200, pair.text
                me = client.get(
                    "/api/auth/me", headers={"Authorization": f"Bearer {pair.json()['access']}"}
                )
                self.users[email] = me.json()["id"]


def running_shop(
    tmp_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    auth_database_url: str | None = None,
    contract_gate: bool = False,
) -> Iterator[Shop]:
    """The shop, on the suite's broker (`broker_url()`) and fresh databases. `env` is added to
    every backend's environment (a fault test points CELERY_BROKER_URL at a fault proxy), and
    `auth_database_url` is the auth service's database (the caller creates it). Its plan is the
    shop's, whose flips wait for a passing `strangle verify` only with `contract_gate` (a test
    of other mechanics does not spend a minute on it before each flip; the auth extraction
    does)."""
    var_dir = tmp_path / "var"
    monolith_port, auth_port = free_port(), free_port()
    urls = {
        "monolith": f"http://127.0.0.1:{monolith_port}",
        "auth": f"http://127.0.0.1:{auth_port}",
    }
    shared = {
        # Shared key material (one JWT key file) and, by default, one filesystem broker.
        "SHOP_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": broker_url(),
        "MONOLITH_URL": urls["monolith"],
        "AUTH_URL": urls["auth"],
        **(env or {}),
    }
    empty_sync_queues(shared["CELERY_BROKER_URL"], ["monolith", "auth"])
    with (
        LiveBackend(name="x_monolith", env=shared, sync=True, port=monolith_port) as monolith,
        LiveBackend(
            name="x_auth",
            project=AUTH,
            env=shared,
            sync=True,
            port=auth_port,
            database_url=auth_database_url,
        ) as auth,
        RunningProxy(
            tmp_path / "proxy",
            backends=urls,
            hooks=(OwnershipHandover(),),
            plan_path=with_contract_gate(tmp_path) if contract_gate else SHOP_PLAN,
        ) as proxy,
    ):
        cli_env = {**os.environ, **monolith.env, **proxy.env}
        shop = Shop(
            public_url=proxy.public_url,
            monolith_url=monolith.base_url,
            auth_url=auth.base_url,
            cli_env=cli_env,
            monolith=monolith,
            auth=auth,
        )
        yield shop


def with_contract_gate(directory: Path) -> Path:
    """A copy of the shop's plan whose flips wait for `strangle verify` to pass."""
    return shop_plan_gated(directory, contract={"required": True})


def parity_is_clean(shop: Shop, domain: str = "auth", *options: str) -> None:
    """Parity of `domain` (`options`: strangle parity's, e.g. --copy BACKEND) is clean within
    30 s (a copy trails its owner by the sync lag)."""
    deadline = time.monotonic() + 30
    while True:
        parity = shop.strangle("parity", domain, *options)
        if parity.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert parity.returncode == 0, parity.stdout + parity.stderr


def extract_auth(shop: Shop) -> None:
    """Step 1-auth, applied as an operator does: backfill the users, parity, apply."""
    backfill = shop.strangle("backfill", "auth")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    parity_is_clean(shop)
    flip(shop, "apply", "1-auth")


def flip(shop: Shop, *command: str) -> float:
    """Runs a flip that must succeed; returns how long it paused the domain's writes."""
    flipped = shop.strangle(*command)
    assert flipped.returncode == 0, flipped.stdout + flipped.stderr
    paused = re.search(r"writes paused ([0-9.]+)s", flipped.stdout)
    assert paused, flipped.stdout
    return float(paused.group(1))


def contract_holds_through_the_proxy(
    shop: Shop, *suites: str, leaving_out: tuple[str, ...] = ()
) -> None:
    """The contract suites (tests/contract/<suite>) pass against the proxy; `leaving_out` names
    tests (pytest -k expressions) not run."""
    selection = ["-k", " and ".join(f"not {name}" for name in leaving_out)] if leaving_out else []
    contract = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *(f"tests/contract/{suite}" for suite in suites),
            *selection,
            "-q",
            "-p",
            "no:cacheprovider",
            "--base-url",
            shop.public_url,
        ],
        cwd=REPO_ROOT,
        env=shop.cli_env,
        capture_output=True,
        text=True,
        timeout=CONTRACT_TIMEOUT,
        check=False,
    )
    assert contract.returncode == 0, contract.stdout[-3000:]
