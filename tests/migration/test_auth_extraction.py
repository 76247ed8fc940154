"""Step 1-auth end to end: the monolith and the auth service, each with its own database, sync
consumers and outbox relay, behind real nginx. Users are created, backfilled and checked for
parity; the step is applied, then rolled back and applied again four times under a write-heavy
load (refresh rotations and registrations); no request may fail or take 3 s, parity must be
clean after every flip, and passwords changed in the admin on either side of a flip must be the
only ones that work afterwards, everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bench.write_load import PASSWORD as LOAD_PASSWORD
from bench.write_load import WriteLoad
from strangler.sync.flip import OwnershipHandover
from tests.migration.harness import REPO_ROOT, RunningProxy, free_port
from tests.support.admin import AdminSession
from tests.support.live import AUTH, LiveBackend

pytestmark = pytest.mark.integration

PASSWORD = LOAD_PASSWORD  # every user of the test, loaded or not, starts with this one
STAFF_EMAIL, STAFF_PASSWORD = "admin@shop.local", "admin-pass-1234"  # seeded in development
CLI_TIMEOUT = 180


def _broker_url(var_dir: Path) -> str:
    """The suite's broker (Redis or RabbitMQ in CI), else a filesystem broker of our own."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured.startswith("redis://"):
        return configured.rsplit("/", 1)[0] + "/7"  # a Redis database of our own
    return configured or "filesystem://"


@dataclass
class Shop:
    """What the load and the checks need: the proxy and each backend's own address."""

    public_url: str
    monolith_url: str
    auth_url: str
    cli_env: dict[str, str]
    monolith: LiveBackend
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


@pytest.fixture
def shop(tmp_path) -> Shop:
    var_dir = tmp_path / "var"
    monolith_port, auth_port = free_port(), free_port()
    urls = {
        "monolith": f"http://127.0.0.1:{monolith_port}",
        "auth": f"http://127.0.0.1:{auth_port}",
    }
    shared = {
        # Shared key material (one JWT key file) and, by default, one filesystem broker.
        "SHOP_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": _broker_url(var_dir),
        "MONOLITH_URL": urls["monolith"],
        "AUTH_URL": urls["auth"],
    }
    with (
        LiveBackend(name="x_monolith", env=shared, sync=True, port=monolith_port) as monolith,
        LiveBackend(name="x_auth", project=AUTH, env=shared, sync=True, port=auth_port) as auth,
        RunningProxy(tmp_path / "proxy", backends=urls, hooks=(OwnershipHandover(),)) as proxy,
    ):
        cli_env = {**os.environ, **monolith.env, **proxy.env}
        yield Shop(
            public_url=proxy.public_url,
            monolith_url=monolith.base_url,
            auth_url=auth.base_url,
            cli_env=cli_env,
            monolith=monolith,
        )


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


def _parity_is_clean(shop: Shop) -> None:
    deadline = time.monotonic() + 30
    while True:
        parity = shop.strangle("parity", "auth")
        if parity.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert parity.returncode == 0, parity.stdout + parity.stderr


def _contract_holds_through_the_proxy(shop: Shop) -> None:
    """The contract's auth and cart/order suites, unchanged, through the proxy at this step: a
    user registered on the auth service is at once a customer of the monolith."""
    contract = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/contract/test_auth.py",
            "tests/contract/test_cart_orders.py",
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
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert contract.returncode == 0, contract.stdout[-3000:]


def _flip(shop: Shop, *command: str) -> str:
    flipped = shop.strangle(*command)
    assert flipped.returncode == 0, flipped.stdout + flipped.stderr
    assert "writes paused" in flipped.stdout, flipped.stdout
    return flipped.stdout


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

    backfill = shop.strangle("backfill", "auth")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    _parity_is_clean(shop)

    (before_email, before_id), (after_email, after_id) = sorted(shop.users.items())[:2]
    with AdminSession(shop.public_url, app_label="accounts") as admin:
        admin.log_in(email=STAFF_EMAIL, password=STAFF_PASSWORD)
        admin.change_password(user_id=before_id, password="set-before-the-move")

    # Half of the requests are writes (refresh rotations, some registrations), from clients
    # whose token chains cross every flip.
    with WriteLoad(shop.public_url, clients=8, register_every=10.0, pause=0.02) as load:
        time.sleep(2)
        _flip(shop, "apply", "1-auth")
        with AdminSession(shop.public_url, app_label="accounts") as admin:
            admin.log_in(email=STAFF_EMAIL, password=STAFF_PASSWORD)
            message = admin.change_password(user_id=after_id, password="set-after-the-move")
        assert "Saved on auth" in message, message
        _parity_is_clean(shop)
        for _ in range(4):
            time.sleep(2)
            _flip(shop, "rollback")
            _parity_is_clean(shop)
            time.sleep(2)
            _flip(shop, "apply", "1-auth")
            _parity_is_clean(shop)
        time.sleep(2)
    report = load.report
    assert report.failures == [], report.summary()
    assert max(report.latencies) < 3.0, report.summary()
    assert report.outcomes["refresh ok"] > 100, report.summary()
    assert report.outcomes["register ok"] >= 8, report.summary()

    shop.users.update(report.users)
    shop.tokens.extend(report.access_tokens[:: max(1, len(report.access_tokens) // 40)])
    assert len(set(shop.users.values())) == len(shop.users), "an id was given out twice"
    _parity_is_clean(shop)
    _password_set_in_the_admin_is_the_only_one_that_works(
        shop, before_email, PASSWORD, "set-before-the-move"
    )
    _password_set_in_the_admin_is_the_only_one_that_works(
        shop, after_email, PASSWORD, "set-after-the-move"
    )
    del shop.users[before_email], shop.users[after_email]
    _every_user_logs_in_and_is_known_everywhere(shop, sample=25)
    _contract_holds_through_the_proxy(shop)
