"""Forged access tokens are 401 on every protected endpoint: never a 5xx, never another user's
data. Tokens are RS256 JWTs with a kid; each forgery below breaks one rule of that."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from tests.contract.api import Account, bearer
from tests.security.conftest import (
    SecureShop,
    assert_leaks_nothing_of,
    assert_unauthorized,
    new_rsa_key,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PROTECTED = ["/api/auth/me", "/api/cart"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def unsigned(header: dict, claims: dict) -> str:
    return f"{segment(header)}.{segment(claims)}"


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    """HMAC-signed by hand: PyJWT rightly refuses a public key as an HMAC secret."""
    signing_input = unsigned({**header, "alg": "HS256"}, claims)
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims_for(shop: SecureShop, account: Account, **changes: Any) -> dict:
    now = int(time.time())
    claims = {
        "iss": shop.issuer,
        "sub": str(account.id),
        "email": account.email,
        "is_staff": False,
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
        "token_use": "access",
        **changes,
    }
    return {key: value for key, value in claims.items() if value is not None}


def signed(shop: SecureShop, claims: dict, *, key=None, headers: dict | None = None) -> str:
    """RS256 with the shop's own key (a genuine signature) unless another key is given; signed
    by hand so that any header goes out (PyJWT refuses a kid that is not a string)."""
    header = {"alg": "RS256", "typ": "JWT", **({"kid": shop.kid} if headers is None else headers)}
    signing_input = unsigned(header, claims)
    rs256 = RSAAlgorithm(RSAAlgorithm.SHA256)
    return f"{signing_input}.{b64(rs256.sign(signing_input.encode(), key or shop.signing_key))}"


def public_pem(shop: SecureShop) -> bytes:
    return shop.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def published_jwk(shop: SecureShop) -> dict:
    (jwk,) = [k for k in shop.api.get("/.well-known/jwks.json").json()["keys"]]
    assert jwk["kid"] == shop.kid
    return jwk


def with_payload_of(token: str, claims: dict) -> str:
    """The token's header and signature around other claims."""
    header, _, signature = token.split(".")
    return f"{header}.{segment(claims)}.{signature}"


Forgery = Callable[[SecureShop, Account, Account], str]  # (shop, victim, attacker) -> token


def _alg_none(alg: str) -> Forgery:
    return lambda shop, victim, _: (
        unsigned({"alg": alg, "kid": shop.kid}, claims_for(shop, victim)) + "."
    )


def _hs256_with_pem(shop: SecureShop, victim: Account, _: Account) -> str:
    return hs256({"kid": shop.kid}, claims_for(shop, victim), public_pem(shop))


def _hs256_with_jwk(shop: SecureShop, victim: Account, _: Account) -> str:
    jwk = json.dumps(published_jwk(shop)).encode()
    return hs256({"kid": shop.kid}, claims_for(shop, victim), jwk)


def _hs256_with_modulus(shop: SecureShop, victim: Account, _: Account) -> str:
    modulus = base64.urlsafe_b64decode(published_jwk(shop)["n"] + "==")
    return hs256({"kid": shop.kid}, claims_for(shop, victim), modulus)


def _foreign_key_real_kid(shop: SecureShop, victim: Account, _: Account) -> str:
    return signed(shop, claims_for(shop, victim), key=new_rsa_key())


def _embedded_foreign_jwk(shop: SecureShop, victim: Account, _: Account) -> str:
    foreign = new_rsa_key()
    jwk = RSAAlgorithm.to_jwk(foreign.public_key(), as_dict=True)
    return signed(shop, claims_for(shop, victim), key=foreign, headers={"kid": "x", "jwk": jwk})


def _sub_swapped(shop: SecureShop, victim: Account, attacker: Account) -> str:
    return with_payload_of(attacker.access, claims_for(shop, victim))


def _staff_added(shop: SecureShop, _: Account, attacker: Account) -> str:
    return with_payload_of(attacker.access, claims_for(shop, attacker, is_staff=True))


def _genuine(**changes: Any) -> Forgery:
    """Signed with the shop's real key and kid, with one claim wrong."""
    return lambda shop, victim, _: signed(shop, claims_for(shop, victim, **changes))


def _no_kid(shop: SecureShop, victim: Account, _: Account) -> str:
    return signed(shop, claims_for(shop, victim), headers={})


def _odd_kid(kid: Any) -> Forgery:
    return lambda shop, victim, _: signed(shop, claims_for(shop, victim), headers={"kid": kid})


def _other_rsa_alg(alg: str) -> Forgery:
    return lambda shop, victim, _: jwt.encode(
        claims_for(shop, victim), shop.signing_key, algorithm=alg, headers={"kid": shop.kid}
    )


def _garbage(token: str) -> Forgery:
    return lambda *_: token


FORGERIES: dict[str, Forgery] = {
    "alg none": _alg_none("none"),
    "alg None": _alg_none("None"),
    "alg NONE": _alg_none("NONE"),
    "HS256 keyed with the public key PEM": _hs256_with_pem,
    "HS256 keyed with the published JWK": _hs256_with_jwk,
    "HS256 keyed with the key's modulus": _hs256_with_modulus,
    "a foreign RSA key under the real kid": _foreign_key_real_kid,
    "a foreign key embedded in the header": _embedded_foreign_jwk,
    "another user's sub under a real signature": _sub_swapped,
    "is_staff added under a real signature": _staff_added,
    "expired": _genuine(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "a wrong issuer": _genuine(iss="https://evil.example"),
    "no issuer": _genuine(iss=None),
    "no expiry": _genuine(exp=None),
    "a refresh token's use": _genuine(token_use="refresh"),
    "a non-numeric sub": _genuine(sub="admin"),
    "a superscript-digit sub": _genuine(sub="\u00b2"),  # was a 500: int() refuses it
    "a fullwidth-digit sub": _genuine(sub="\uff11"),
    "a sub too big for an id": _genuine(sub="9" * 40),
    "a negative sub": _genuine(sub="-1"),
    "a numeric sub of no user": _genuine(sub="999999999"),
    "no kid": _no_kid,
    "a path as kid": _odd_kid("../../../../etc/passwd"),
    "a list as kid": _odd_kid([1, 2]),
    "an RS512 signature": _other_rsa_alg("RS512"),
    "a PS256 signature": _other_rsa_alg("PS256"),
    "not base64": _garbage("%%%.%%%.%%%"),
    "a JSON array header": _garbage(f"{segment([1])}.{segment({})}.x"),
    "two segments": _garbage(f"{segment({'alg': 'RS256'})}.{segment({})}"),
    # Large, yet under the server's 8 KiB header limit (beyond it the server answers 431).
    "a huge token": _garbage("a" * 3500 + "." + "b" * 3500 + ".c"),
}


@pytest.fixture(scope="module")
def forged(secure_shop: SecureShop, victim: Account, attacker: Account) -> dict[str, str]:
    # The victim has something worth stealing: an item in the cart.
    product = secure_shop.api.create_product(secure_shop.admin)
    secure_shop.api.set_quantity(victim, product["id"], 2)
    return {name: forge(secure_shop, victim, attacker) for name, forge in FORGERIES.items()}


def test_a_token_signed_with_the_shops_key_is_accepted(secure_shop, victim):
    """The control: forgeries differ from this one in one rule only, so their 401s mean it."""
    token = signed(secure_shop, claims_for(secure_shop, victim))

    response = secure_shop.api.get("/api/auth/me", headers=bearer(token))

    assert response.status_code == 200, response.text
    assert response.json()["email"] == victim.email


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize("name", FORGERIES)
def test_a_forged_token_is_401_json_and_leaks_nothing(secure_shop, forged, victim, name, path):
    response = secure_shop.api.get(path, headers=bearer(forged[name]))

    assert_unauthorized(response)
    assert_leaks_nothing_of(victim, response)


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer", b"Bearer a b", b"Bearer \xff\xfe", b"Basic dXNlcjpwYXNz", b"Token abc"],
)
def test_a_malformed_authorization_header_is_never_a_server_error(secure_shop, authorization):
    response = secure_shop.api.get("/api/cart", headers={"Authorization": authorization})

    assert_unauthorized(response)


def test_a_forged_token_cannot_write_as_its_victim(secure_shop, forged, victim, product):
    before = secure_shop.api.cart(victim)

    for name in FORGERIES:
        response = secure_shop.api.put(
            f"/api/cart/items/{product['id']}",
            headers=bearer(forged[name]),
            json={"quantity": 7},
        )
        assert_unauthorized(response)

    assert secure_shop.api.cart(victim) == before
