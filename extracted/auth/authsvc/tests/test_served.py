"""The service as it is deployed: migrated by manage.py, served by gunicorn with the shared
gunicorn config on a free loopback port, talked to over HTTP only."""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from psycopg import sql

from strangler.service.internal_token import HEADER
from strangler.service.keys import key_id

pytestmark = pytest.mark.integration

SERVICE_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = SERVICE_DIR.parents[1]
BIN_DIR = Path(sys.executable).parent
READY_SECONDS = 60
STOP_SECONDS = 15


@dataclass(frozen=True)
class Served:
    base_url: str
    signing_key: rsa.RSAPrivateKey
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _database(scratch: Path) -> Iterator[str]:
    """A database of its own: PostgreSQL beside AUTH_DATABASE_URL when that is one, else SQLite."""
    source = os.environ.get("AUTH_DATABASE_URL", "")
    if urlsplit(source).scheme not in {"postgres", "postgresql"}:
        yield f"sqlite:///{scratch / 'auth.sqlite3'}"
        return
    parts = urlsplit(source)
    name = f"{parts.path.lstrip('/') or 'shop_d_auth'}_served"[:63]
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(drop)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(drop)


def _wait_ready(process: subprocess.Popen, base_url: str) -> bool:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return True
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)
    # Workers that outlived their master must not keep the port or the database.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    scratch = tmp_path_factory.mktemp("auth-served")
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = scratch / "jwt-private.pem"
    key_file.write_bytes(
        signing_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    log = scratch / "auth.log"
    with _database(scratch) as database_url, log.open("ab") as log_file:
        env = {
            **os.environ,
            "SHOP_VAR_DIR": str(scratch / "var"),
            "AUTH_DATABASE_URL": database_url,
            "JWT_PRIVATE_KEY_FILE": str(key_file),
            "DJANGO_SETTINGS_MODULE": "authsvc.settings",
            # Nothing listens there: a write forwarded to the monolith would fail loudly.
            "MONOLITH_URL": f"http://127.0.0.1:{_free_port()}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "2",
            "PYTHONUNBUFFERED": "1",
        }
        # The filesystem broker lives in the scratch var/; a real broker URL is used as given.
        if env.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem://"):
            env.pop("CELERY_BROKER_URL", None)
        # The test calls /internal/ itself, as the flip does, with the token it gives.
        env["STRANGLER_INTERNAL_TOKEN"] = internal_token = secrets.token_urlsafe(32)
        migrate = [str(BIN_DIR / "python"), "manage.py", "migrate", "--noinput"]
        subprocess.run(
            migrate,
            cwd=SERVICE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=True,
        )
        port = _free_port()
        process = subprocess.Popen(
            [
                str(BIN_DIR / "gunicorn"),
                "authsvc.wsgi:application",
                "--chdir",
                str(SERVICE_DIR),
                "--config",
                str(REPO_DIR / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=REPO_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            assert _wait_ready(process, base_url), log.read_text(errors="replace")[-4000:]
            # The flip's last step, as `strangle apply 1-auth` takes it: the service owns users.
            owned = httpx.put(
                f"{base_url}/internal/sync/domains/auth/ownership",
                json={"owner": "auth", "state": "active"},
                headers={HEADER: internal_token},
                timeout=10,
            )
            assert owned.status_code == 200, owned.text
            yield Served(base_url=base_url, signing_key=signing_key, log=log)
        finally:
            _stop(process)


@pytest.fixture
def http(served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base_url, timeout=10) as client:
        yield client


def _register(http, email: str, password: str = "served-pass-1234") -> httpx.Response:
    return http.post(
        "/api/auth/register", json={"email": email, "password": password, "name": "Served"}
    )


def test_the_served_service_is_ready_and_answers_unknown_paths_with_json_404(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/readyz").json()["checks"] == {"database": "ok", "broker": "ok"}
    missing = http.get("/api/orders")
    assert missing.status_code == 404
    assert missing.content == b'{"detail":"Not found."}'


def test_a_user_registers_logs_in_refreshes_and_reads_me_over_http(http):
    created = _register(http, "flow@example.com")
    assert created.status_code == 201

    login = http.post(
        "/api/auth/token", json={"email": "flow@example.com", "password": "served-pass-1234"}
    )
    refreshed = http.post("/api/auth/token/refresh", json={"refresh": login.json()["refresh"]})
    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access']}"})

    assert (login.status_code, refreshed.status_code, me.status_code) == (200, 200, 200)
    assert me.json() == created.json()


def test_tokens_signed_by_another_holder_of_the_key_are_accepted(http, served):
    user = _register(http, "elsewhere@example.com").json()
    now = datetime.now(UTC)
    claims = {
        "iss": "shop",
        "sub": str(user["id"]),
        "email": user["email"],
        "is_staff": False,
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "token_use": "access",
    }
    kid = key_id(served.signing_key.public_key())
    token = jwt.encode(claims, served.signing_key, algorithm="RS256", headers={"kid": kid})

    me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


def test_the_service_s_tokens_verify_with_its_published_jwks(http):
    _register(http, "jwks@example.com")
    access = http.post(
        "/api/auth/token", json={"email": "jwks@example.com", "password": "served-pass-1234"}
    ).json()["access"]
    published = {
        key.key_id: key
        for key in jwt.PyJWKSet.from_dict(http.get("/.well-known/jwks.json").json()).keys
    }

    kid = jwt.get_unverified_header(access)["kid"]
    claims = jwt.decode(access, published[kid].key, algorithms=["RS256"], issuer="shop")

    assert claims["email"] == "jwks@example.com"


def test_concurrent_registrations_of_one_email_create_one_user(http, served):
    def attempt(index: int) -> httpx.Response:
        with httpx.Client(base_url=served.base_url, timeout=30) as client:
            return _register(client, "Race@Example.com" if index % 2 else "race@example.com")

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(attempt, range(8)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [400] * 7
    for response in responses:
        if response.status_code == 400:
            assert response.json() == {"email": ["A user with this email already exists."]}


def test_requests_are_logged_as_json_lines_with_their_request_id(http, served):
    http.get("/healthz", headers={"X-Request-ID": "trace-me-4711"})

    records = []
    for line in served.log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            records.append(json.loads(line))
    access = [r for r in records if r.get("request_id") == "trace-me-4711"]
    assert access and access[0]["path"] == "/healthz"
    assert access[0]["status"] == 200
