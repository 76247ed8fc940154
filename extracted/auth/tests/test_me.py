from datetime import UTC, datetime, timedelta

import jwt
import pytest

from strangler.service import keys

pytestmark = pytest.mark.django_db


def test_me_without_a_token_is_401_with_bearer_challenge(api):
    response = api.get("/api/auth/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_me_returns_the_caller(api, customer, bearer):
    response = api.get("/api/auth/me", **bearer(customer))

    assert response.status_code == 200
    assert response.json() == {
        "id": customer.pk,
        "email": "ann@example.com",
        "name": "Ann",
        "is_staff": False,
        "date_joined": customer.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_me_tells_staff_apart(api, staff, bearer):
    assert api.get("/api/auth/me", **bearer(staff)).json()["is_staff"] is True


def test_me_with_a_garbage_token_is_401(api):
    response = api.get("/api/auth/me", HTTP_AUTHORIZATION="Bearer not.a.jwt")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_me_with_an_expired_token_is_401(api, customer):
    key = keys.signing_key()
    past = datetime.now(UTC) - timedelta(hours=1)
    claims = {
        "iss": "shop",
        "sub": str(customer.pk),
        "iat": past,
        "exp": past + timedelta(minutes=15),
        "token_use": "access",
    }
    token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})

    response = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired."}


def test_me_for_a_user_deactivated_after_login_is_401(api, customer, bearer):
    headers = bearer(customer)
    customer.is_active = False
    customer.save()

    assert api.get("/api/auth/me", **headers).status_code == 401
