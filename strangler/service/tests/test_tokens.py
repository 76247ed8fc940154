from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

from strangler.service import keys
from strangler.service.tokens import InvalidAccessToken, issue_access_token, verify_access_token


def test_access_token_is_rs256_with_key_id_and_fifteen_minute_expiry():
    token = issue_access_token(user_id=7, email="a@example.com", is_staff=False)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "RS256"
    assert header["kid"] == keys.signing_key().kid
    assert claims["exp"] - claims["iat"] == 900
    assert verify_access_token(token).user_id == 7


def test_expired_token_is_rejected():
    key = keys.signing_key()
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(
        {
            "iss": "shop",
            "sub": "1",
            "iat": past,
            "exp": past + timedelta(minutes=15),
            "token_use": "access",
        },
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    with pytest.raises(InvalidAccessToken, match="expired"):
        verify_access_token(token)


def test_token_signed_with_another_algorithm_is_rejected():
    now = datetime.now(UTC)
    forged = jwt.encode(
        {
            "iss": "shop",
            "sub": "1",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "token_use": "access",
        },
        "a-guessable-shared-secret-of-32-bytes!",
        algorithm="HS256",
        headers={"kid": keys.signing_key().kid},
    )
    with pytest.raises(InvalidAccessToken):
        verify_access_token(forged)


def test_token_from_an_unknown_key_is_rejected():
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    token = jwt.encode(
        {
            "iss": "shop",
            "sub": "1",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "token_use": "access",
        },
        stranger,
        algorithm="RS256",
        headers={"kid": keys.key_id(stranger.public_key())},
    )
    with pytest.raises(InvalidAccessToken):
        verify_access_token(token)


@pytest.mark.parametrize("sub", ["\u00b2", "\uff11", "0", "-1", "1 ", "1\n", "9" * 19, "admin"])
def test_a_signed_token_whose_sub_is_no_user_id_is_invalid(sub):
    key = keys.signing_key()
    now = datetime.now(UTC)
    token = jwt.encode(
        {
            "iss": "shop",
            "sub": sub,
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "token_use": "access",
        },
        key.private_key,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    with pytest.raises(InvalidAccessToken):
        verify_access_token(token)


def test_jwks_publishes_the_old_key_beside_the_new_one_during_a_rotation(tmp_path):
    old_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old_public = tmp_path / "old.pem"
    old_public.write_bytes(
        old_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    now = datetime.now(UTC)
    old_token = jwt.encode(
        {
            "iss": "shop",
            "sub": "3",
            "iat": now,
            "exp": now + timedelta(minutes=5),
            "token_use": "access",
        },
        old_key,
        algorithm="RS256",
        headers={"kid": keys.key_id(old_key.public_key())},
    )
    keys.verification_keys.cache_clear()
    try:
        with override_settings(JWT_EXTRA_PUBLIC_KEY_FILES=[str(old_public)]):
            published = {jwk["kid"] for jwk in keys.jwks()["keys"]}
            assert published == {keys.signing_key().kid, keys.key_id(old_key.public_key())}
            assert verify_access_token(old_token).user_id == 3
    finally:
        keys.verification_keys.cache_clear()
