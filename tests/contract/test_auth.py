"""Auth: register, token, refresh rotation, me and JWKS (shop-api.md, domain `auth`)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.contract import shapes
from tests.contract.api import PASSWORD, bearer

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def _register(shop, **overrides):
    body = {"email": shop.unique.email(), "password": PASSWORD, "name": "Ada Lovelace"}
    body.update(overrides)
    return shop.post("/api/auth/register", json=body), body


def _jwks(shop) -> dict:
    return shapes.json_body(shop.get("/.well-known/jwks.json"), 200)


def _verify(shop, token: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(_jwks(shop)).keys}
    assert kid in keys, f"kid {kid!r} not published in JWKS"
    return jwt.decode(token, keys[kid].key, algorithms=["RS256"], options={"verify_aud": False})


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# -- register ---------------------------------------------------------------------------------
def test_register_returns_the_new_user_who_is_not_staff(shop):
    response, sent = _register(shop, name="Ada Lovelace")

    user = shapes.user(shapes.json_body(response, 201))
    assert user["email"] == sent["email"]
    assert user["name"] == "Ada Lovelace"
    assert user["is_staff"] is False
    joined = shapes.timestamp(user["date_joined"])
    assert abs(datetime.now(UTC) - joined) < timedelta(hours=1)


def test_register_ignores_unknown_fields_and_cannot_grant_staff_rights(shop):
    response, sent = _register(shop, is_staff=True, is_superuser=True, favourite="blue")

    user = shapes.user(shapes.json_body(response, 201))
    assert user["is_staff"] is False
    tokens = shop.login(sent["email"], sent["password"])
    me = shapes.json_body(shop.get("/api/auth/me", headers=bearer(tokens["access"])), 200)
    assert me["is_staff"] is False


def test_registered_user_can_log_in_and_sees_itself_on_me(shop):
    response, sent = _register(shop)
    created = shapes.json_body(response, 201)

    tokens = shop.login(sent["email"], sent["password"])
    response = shop.get("/api/auth/me", headers=bearer(tokens["access"]))
    me = shapes.user(shapes.json_body(response, 200))

    assert me == created


@pytest.mark.parametrize("email", ["not-an-email", "missing-at.example.com", "a@", ""])
def test_register_rejects_an_invalid_email(shop, email):
    response, _ = _register(shop, email=email)

    shapes.field_errors(response, "email")


def test_register_rejects_a_password_shorter_than_eight_characters(shop):
    response, _ = _register(shop, password="seven77")

    shapes.field_errors(response, "password")


def test_register_accepts_a_password_of_exactly_eight_characters(shop):
    response, _ = _register(shop, password="eight888")

    shapes.user(shapes.json_body(response, 201))


def test_register_rejects_a_duplicate_email_with_the_documented_message(shop):
    first, sent = _register(shop)
    shapes.json_body(first, 201)

    second, _ = _register(shop, email=sent["email"], name="Someone Else")

    body = shapes.field_errors(second, "email")
    assert body["email"] == ["A user with this email already exists."]


def test_register_names_every_missing_field(shop):
    response = shop.post("/api/auth/register", json={})

    shapes.field_errors(response, "email", "password", "name")


def test_register_does_not_echo_the_password(shop):
    response, sent = _register(shop)

    assert sent["password"] not in response.text


# -- token ------------------------------------------------------------------------------------
def test_token_returns_bearer_tokens_that_expire_in_fifteen_minutes(shop, customer):
    response = shop.post(
        "/api/auth/token", json={"email": customer.email, "password": customer.password}
    )

    tokens = shapes.tokens(shapes.json_body(response, 200))
    header = jwt.get_unverified_header(tokens["access"])
    assert header["alg"] == "RS256"
    assert isinstance(header.get("kid"), str) and header["kid"]
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    if "iat" in claims:
        assert claims["exp"] - claims["iat"] == 900
    assert 0 < claims["exp"] - time.time() <= 900 + 60


def test_access_token_verifies_with_a_published_jwks_key(shop, customer):
    claims = _verify(shop, customer.access)

    assert claims["exp"] > time.time()


def test_jwks_publishes_public_rsa_keys_only(shop):
    keys = _jwks(shop)

    assert set(keys) == {"keys"} and keys["keys"], keys
    for key in keys["keys"]:
        assert key["kty"] == "RSA", key
        assert {"kid", "n", "e"} <= set(key), key
        assert not PRIVATE_JWK_MEMBERS & set(key), f"private material published: {sorted(key)}"


def test_token_rejects_a_wrong_password(shop, customer):
    response = shop.post(
        "/api/auth/token", json={"email": customer.email, "password": "wrong-password-1"}
    )

    assert shapes.error_detail(response, 401)["detail"] == "Invalid email or password."


def test_token_gives_the_same_answer_for_an_unknown_email(shop):
    response = shop.post(
        "/api/auth/token", json={"email": shop.unique.email(), "password": "whatever-1234"}
    )

    assert shapes.error_detail(response, 401)["detail"] == "Invalid email or password."


def test_token_names_missing_fields(shop):
    response = shop.post("/api/auth/token", json={})

    shapes.field_errors(response, "email", "password")


# -- refresh ----------------------------------------------------------------------------------
def test_refresh_rotates_both_tokens(shop, customer):
    response = shop.post("/api/auth/token/refresh", json={"refresh": customer.refresh})

    tokens = shapes.tokens(shapes.json_body(response, 200))
    assert tokens["refresh"] != customer.refresh
    me = shapes.json_body(shop.get("/api/auth/me", headers=bearer(tokens["access"])), 200)
    assert me["id"] == customer.id


def test_a_refresh_token_can_be_used_only_once(shop, customer):
    first = shop.post("/api/auth/token/refresh", json={"refresh": customer.refresh})
    shapes.json_body(first, 200)

    reuse = shop.post("/api/auth/token/refresh", json={"refresh": customer.refresh})

    shapes.error_detail(reuse, 401)


def test_the_rotated_refresh_token_keeps_working(shop, customer):
    rotated = shop.post("/api/auth/token/refresh", json={"refresh": customer.refresh}).json()

    again = shop.post("/api/auth/token/refresh", json={"refresh": rotated["refresh"]})

    shapes.tokens(shapes.json_body(again, 200))


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.sig"])
def test_refresh_rejects_an_invalid_token(shop, token):
    response = shop.post("/api/auth/token/refresh", json={"refresh": token})

    shapes.error_detail(response, 401)


def test_refresh_rejects_an_access_token(shop, customer):
    response = shop.post("/api/auth/token/refresh", json={"refresh": customer.access})

    shapes.error_detail(response, 401)


def test_refresh_without_a_token_names_the_field(shop):
    response = shop.post("/api/auth/token/refresh", json={})

    shapes.field_errors(response, "refresh")


# -- me ---------------------------------------------------------------------------------------
def test_me_returns_the_authenticated_user(shop, customer):
    me = shapes.user(shapes.json_body(shop.get("/api/auth/me", customer), 200))

    assert (me["id"], me["email"], me["name"], me["is_staff"]) == (
        customer.id,
        customer.email,
        customer.name,
        False,
    )


def test_me_reports_staff_for_the_seeded_admin(shop, admin):
    me = shapes.user(shapes.json_body(shop.get("/api/auth/me", admin), 200))

    assert me["is_staff"] is True


def test_me_without_a_token_is_401_with_a_bearer_challenge(shop):
    shapes.unauthorized(shop.get("/api/auth/me"))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Basic YWRtaW46YWRtaW4=", "Token abc"],
)
def test_me_rejects_malformed_credentials(shop, authorization):
    shapes.unauthorized(shop.get("/api/auth/me", headers={"Authorization": authorization}))


def test_me_rejects_a_token_signed_with_another_key(shop, customer):
    header = jwt.get_unverified_header(customer.access)
    claims = jwt.decode(customer.access, options={"verify_signature": False})
    intruder = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, intruder, algorithm="RS256", headers={"kid": header["kid"]})

    shapes.unauthorized(shop.get("/api/auth/me", headers=bearer(forged)))


def test_me_rejects_an_unsigned_token(shop, customer):
    claims = jwt.decode(customer.access, options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."

    shapes.unauthorized(shop.get("/api/auth/me", headers=bearer(unsigned)))


def test_me_rejects_a_refresh_token_used_as_access_token(shop, customer):
    shapes.unauthorized(shop.get("/api/auth/me", headers=bearer(customer.refresh)))
