"""Key material shared with the monolith, and rotation: tokens verify wherever the key is known."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

from strangler.service import keys

pytestmark = pytest.mark.django_db

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_private(key: rsa.RSAPrivateKey, path: Path) -> str:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def _write_public(key: rsa.RSAPrivateKey, path: Path) -> str:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(path)


def _signed_elsewhere(key: rsa.RSAPrivateKey, *, user_id: int) -> str:
    """An access token as another backend holding `key` issues it (the monolith, before a flip)."""
    now = datetime.now(UTC)
    claims = {
        "iss": "shop",
        "sub": str(user_id),
        "email": "ann@example.com",
        "is_staff": False,
        "iat": now,
        "exp": now + timedelta(minutes=15),
        "jti": "issued-elsewhere",
        "token_use": "access",
    }
    kid = keys.key_id(key.public_key())
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _me(api, token: str):
    return api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_jwks_lists_rsa_public_keys_only(api):
    keys_published = api.get("/.well-known/jwks.json").json()["keys"]

    assert keys_published
    for key in keys_published:
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert key["use"] == "sig"
        assert not PRIVATE_JWK_MEMBERS & set(key)


def test_tokens_verify_against_the_published_jwks(api, customer):
    access = api.post(
        "/api/auth/token", {"email": customer.email, "password": "ann-pass-1234"}, format="json"
    ).json()["access"]
    published = jwt.PyJWKSet.from_dict(api.get("/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(access)["kid"]

    (key,) = [k for k in published.keys if k.key_id == kid]
    claims = jwt.decode(access, key.key, algorithms=["RS256"], issuer="shop")

    assert claims["sub"] == str(customer.pk)


def test_a_token_signed_elsewhere_with_the_shared_key_file_is_accepted(
    api, customer, tmp_path, fresh_key_caches
):
    shared = _new_key()
    with override_settings(
        JWT_PRIVATE_KEY="", JWT_PRIVATE_KEY_FILE=_write_private(shared, tmp_path / "shared.pem")
    ):
        response = _me(api, _signed_elsewhere(shared, user_id=customer.pk))

    assert response.status_code == 200
    assert response.json()["id"] == customer.pk


def test_a_key_id_is_derived_from_the_key_so_every_holder_agrees_on_it(tmp_path, fresh_key_caches):
    shared = _new_key()
    with override_settings(
        JWT_PRIVATE_KEY="", JWT_PRIVATE_KEY_FILE=_write_private(shared, tmp_path / "shared.pem")
    ):
        assert keys.signing_key().kid == keys.key_id(shared.public_key())


def test_during_a_rotation_both_keys_are_published_and_old_tokens_still_work(
    api, customer, tmp_path, fresh_key_caches
):
    old, new = _new_key(), _new_key()
    old_token = _signed_elsewhere(old, user_id=customer.pk)
    with override_settings(
        JWT_PRIVATE_KEY="",
        JWT_PRIVATE_KEY_FILE=_write_private(new, tmp_path / "new.pem"),
        JWT_EXTRA_PUBLIC_KEY_FILES=[_write_public(old, tmp_path / "old.pub.pem")],
    ):
        published = {key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]}
        old_response = _me(api, old_token)
        new_access = api.post(
            "/api/auth/token",
            {"email": customer.email, "password": "ann-pass-1234"},
            format="json",
        ).json()["access"]

    assert published == {keys.key_id(old.public_key()), keys.key_id(new.public_key())}
    assert old_response.status_code == 200
    assert jwt.get_unverified_header(new_access)["kid"] == keys.key_id(new.public_key())


def test_once_the_rotation_ends_tokens_of_the_retired_key_are_refused(
    api, customer, tmp_path, fresh_key_caches
):
    old, new = _new_key(), _new_key()
    with override_settings(
        JWT_PRIVATE_KEY="",
        JWT_PRIVATE_KEY_FILE=_write_private(new, tmp_path / "new.pem"),
        JWT_EXTRA_PUBLIC_KEY_FILES=[],
    ):
        published = api.get("/.well-known/jwks.json").json()["keys"]
        response = _me(api, _signed_elsewhere(old, user_id=customer.pk))

    assert [key["kid"] for key in published] == [keys.key_id(new.public_key())]
    assert response.status_code == 401
