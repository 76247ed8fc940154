"""Step 1-auth end to end: the monolith and the auth service, each with its own database, Celery
worker and outbox relay, behind real nginx. Users are created, backfilled and checked for parity;
the step is applied and rolled back under concurrent registrations, logins and `me` calls; no
request may fail and every user must keep working everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from strangler.sync.flip import OwnershipHandover
from tests.migration.harness import REPO_ROOT, RunningProxy, free_port
from tests.support.live import AUTH, LiveBackend

pytestmark = pytest.mark.integration

PASSWORD = "flip-pass-1234"
LOAD_THREADS = 3
LOAD_PAUSE = 0.25  # keeps logins under the proxy's per-address limit on POST /api/auth/token
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
            "from accounts.models import User\n"
            f"for email in {emails!r}:\n"
            f"    User.objects.create_user(email=email, password={PASSWORD!r}, name='Legacy')",
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


class Load:
    """Registrations, logins and `me` calls over keep-alive connections until stopped."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.stopping = threading.Event()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(LOAD_THREADS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _record(self, what: str, response: httpx.Response | Exception, expected: int) -> bool:
        ok = isinstance(response, httpx.Response) and response.status_code == expected
        with self.lock:
            self.outcomes[f"{what} {'ok' if ok else 'FAILED'}"] += 1
            if not ok:
                detail = (
                    f"{response.status_code} {response.text[:200]}"
                    if isinstance(response, httpx.Response)
                    else repr(response)
                )
                self.failures.append(f"{what}: {detail}")
        return ok

    def _call(self, what: str, expected: int, send) -> httpx.Response | None:
        try:
            response = send()
        except httpx.HTTPError as error:
            self._record(what, error, expected)
            return None
        return response if self._record(what, response, expected) else None

    def _run(self, number: int) -> None:
        with httpx.Client(base_url=self.shop.public_url, timeout=30) as client:
            for cycle in range(10_000):
                if self.stopping.is_set():
                    return
                email = f"load{number}-{cycle}-{uuid.uuid4().hex[:8]}@example.com"
                body = {"email": email, "password": PASSWORD, "name": f"Load {number}"}
                created = self._call(
                    "register", 201, lambda b=body: client.post("/api/auth/register", json=b)
                )
                if created is None:
                    continue
                with self.lock:
                    self.shop.users[email] = created.json()["id"]
                pair = self._call(
                    "token",
                    200,
                    lambda e=email: client.post(
                        "/api/auth/token", json={"email": e, "password": PASSWORD}
                    ),
                )
                if pair is not None:
                    access = pair.json()["access"]
                    with self.lock:
                        self.shop.tokens.append(access)
                    self._call(
                        "me",
                        200,
                        lambda a=access: client.get(
                            "/api/auth/me", headers={"Authorization": f"Bearer {a}"}
                        ),
                    )
                time.sleep(LOAD_PAUSE)


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


def _flip_under_load(shop: Shop, *command: str) -> Load:
    with Load(shop) as load:
        time.sleep(2)
        flipped = shop.strangle(*command)
        time.sleep(2)
    assert flipped.returncode == 0, flipped.stdout + flipped.stderr
    assert load.failures == [], load.failures[:10]
    assert load.outcomes["register ok"] >= LOAD_THREADS, load.outcomes
    return load


@pytest.mark.timeout(900)
def test_auth_moves_to_the_service_and_back_under_load_losing_nothing(shop):
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

    _flip_under_load(shop, "apply", "1-auth")
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        after = client.post(
            "/api/auth/register",
            json={
                "email": f"after-{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "name": "After",
            },
        )
    assert after.status_code == 201
    assert after.headers.get("X-Served-By") == "auth"
    shop.users[after.json()["email"]] = after.json()["id"]
    assert len(set(shop.users.values())) == len(shop.users), "an id was given out twice"
    # The copies trail their owner by the sync lag: once in parity, every user works everywhere.
    _parity_is_clean(shop)
    _every_user_logs_in_and_is_known_everywhere(shop, sample=25)
    _contract_holds_through_the_proxy(shop)

    _flip_under_load(shop, "rollback")
    _parity_is_clean(shop)
    _every_user_logs_in_and_is_known_everywhere(shop, sample=25)

    _flip_under_load(shop, "apply", "1-auth")
    assert len(set(shop.users.values())) == len(shop.users), "an id was given out twice"
    _parity_is_clean(shop)
    _every_user_logs_in_and_is_known_everywhere(shop)
