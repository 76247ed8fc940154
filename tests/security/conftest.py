"""The security suite's target: a monolith configured as in production (SHOP_ENV=production, its
own secret key, a host allow-list, an RS256 signing key this suite holds) served by gunicorn on
a loopback port, with helpers that judge its answers to hostile requests."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from strangler.service.keys import key_id
from tests.contract import shapes
from tests.contract.api import Account, ShopApi, Unique
from tests.support.live import LiveBackend

ALLOWED_HOST = "127.0.0.1"
ISSUER = "shop-security-suite"
ADMIN_EMAIL = "security-admin@example.com"
ADMIN_PASSWORD = "security-admin-pass-1234"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class SecureShop:
    base_url: str
    host: str
    port: int
    api: ShopApi
    admin: Account
    signing_key: rsa.RSAPrivateKey  # the shop's own key: tokens it signs are genuine
    kid: str
    issuer: str


@pytest.fixture(scope="session")
def secure_shop() -> Iterator[SecureShop]:
    signing_key = new_rsa_key()
    env = {
        "SHOP_ENV": "production",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": ALLOWED_HOST,
        "JWT_PRIVATE_KEY": private_pem(signing_key),
        "JWT_PRIVATE_KEY_FILE": "",
        "JWT_ISSUER": ISSUER,
        "EMAIL_URL": "consolemail://",
        "SHOP_ADMIN_EMAIL": ADMIN_EMAIL,
        "SHOP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    with (
        LiveBackend(name="security", env=env, products=3, workers=2) as backend,
        httpx.Client(base_url=backend.base_url, timeout=30.0, follow_redirects=False) as client,
    ):
        assert backend.base_url is not None and backend.port is not None
        api = ShopApi(client, Unique())
        yield SecureShop(
            base_url=backend.base_url,
            host=ALLOWED_HOST,
            port=backend.port,
            api=api,
            admin=api.account(ADMIN_EMAIL, ADMIN_PASSWORD),
            signing_key=signing_key,
            kid=key_id(signing_key.public_key()),
            issuer=ISSUER,
        )


@pytest.fixture(scope="session")
def api(secure_shop: SecureShop) -> ShopApi:
    return secure_shop.api


@pytest.fixture(scope="session")
def victim(api: ShopApi) -> Account:
    """Customer A, whose data the attacks are after."""
    return api.register(name="Victim A")


@pytest.fixture(scope="session")
def attacker(api: ShopApi) -> Account:
    """Customer B, logged in and trying to reach A's data."""
    return api.register(name="Attacker B")


@pytest.fixture(scope="session")
def product(secure_shop: SecureShop) -> dict:
    return secure_shop.api.create_product(secure_shop.admin, stock=50)


def assert_unauthorized(response: httpx.Response) -> dict:
    """401 with the contract's JSON error and a Bearer challenge."""
    body = shapes.error_detail(response, 401)
    assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers
    return body


def assert_not_found(response: httpx.Response) -> dict:
    return shapes.error_detail(response, 404)


def assert_leaks_nothing_of(account: Account, response: httpx.Response | bytes) -> None:
    text = response if isinstance(response, bytes) else response.content
    for secret in (account.email, account.name):
        assert secret.encode() not in text, f"{secret!r} leaked: {text[:500]!r}"
