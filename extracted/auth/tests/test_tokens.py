from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from accounts.models import RefreshToken

pytestmark = pytest.mark.django_db


def _login(api, email="ann@example.com", password="ann-pass-1234"):
    return api.post("/api/auth/token", {"email": email, "password": password}, format="json")


def _refresh(api, refresh):
    return api.post("/api/auth/token/refresh", {"refresh": refresh}, format="json")


def test_token_pair_has_the_documented_shape(api, customer):
    response = _login(api)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900


def test_access_token_names_the_user_and_expires_in_fifteen_minutes(api, customer):
    access = _login(api).json()["access"]

    claims = jwt.decode(access, options={"verify_signature": False})
    assert jwt.get_unverified_header(access)["alg"] == "RS256"
    assert claims["sub"] == str(customer.pk)
    assert claims["iss"] == "shop"
    assert claims["exp"] - claims["iat"] == 900


def test_token_with_a_wrong_password_is_401_with_bearer_challenge(api, customer):
    response = _login(api, password="wrong-password")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid email or password."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_token_for_an_unknown_email_looks_like_a_wrong_password(api, customer):
    response = _login(api, email="nobody@example.com")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid email or password."}


def test_token_email_is_matched_whatever_its_case(api, customer):
    assert _login(api, email="ANN@EXAMPLE.COM").status_code == 200


def test_an_inactive_user_cannot_log_in(api, customer):
    customer.is_active = False
    customer.save()

    assert _login(api).status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_login(api, customer):
    first = _login(api).json()
    second = _refresh(api, first["refresh"])
    assert second.status_code == 200
    assert second.json()["refresh"] != first["refresh"]
    assert set(second.json()) == {"access", "refresh", "token_type", "expires_in"}

    replay = _refresh(api, first["refresh"])
    assert replay.status_code == 401
    assert replay.json() == {"detail": "Refresh token is invalid, expired or already used."}
    assert replay["WWW-Authenticate"] == "Bearer"

    # The replay looked like a stolen token: the token rotated from it is revoked too.
    assert _refresh(api, second.json()["refresh"]).status_code == 401
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 2


def test_a_replay_revokes_one_login_only(api, customer):
    stolen = _login(api).json()
    other_device = _login(api).json()
    _refresh(api, stolen["refresh"])
    _refresh(api, stolen["refresh"])

    assert _refresh(api, other_device["refresh"]).status_code == 200


def test_an_expired_refresh_token_is_401(api, customer):
    refresh = _login(api).json()["refresh"]
    for token in RefreshToken.objects.all():
        token.expires_at = timezone.now() - timedelta(seconds=1)
        token.save()

    assert _refresh(api, refresh).status_code == 401


def test_refresh_for_a_deactivated_user_is_401(api, customer):
    refresh = _login(api).json()["refresh"]
    customer.is_active = False
    customer.save()

    assert _refresh(api, refresh).status_code == 401


def test_refresh_with_an_unknown_token_is_401(api):
    response = _refresh(api, "not-a-token")

    assert response.status_code == 401
    assert response.json() == {"detail": "Refresh token is invalid, expired or already used."}


def test_refresh_without_a_token_is_a_field_error(api):
    response = api.post("/api/auth/token/refresh", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"refresh": ["This field is required."]}


def test_ten_wrong_passwords_lock_the_account_for_a_while_with_429(api, customer):
    for _ in range(10):
        assert _login(api, password="wrong-password").status_code == 401

    locked = _login(api)

    assert locked.status_code == 429
    wait = int(locked["Retry-After"])
    assert 0 < wait <= 301
    assert locked.json() == {
        "detail": "Too many failed login attempts. Try again later. "
        f"Expected available in {wait} seconds."
    }
    assert _login(api, email="nobody@example.com", password="x").status_code == 401


def test_a_successful_login_clears_earlier_failures(api, customer):
    for _ in range(9):
        _login(api, password="wrong-password")
    assert _login(api).status_code == 200
    for _ in range(9):
        _login(api, password="wrong-password")

    assert _login(api).status_code == 200


def test_refreshing_with_an_access_token_is_401(api, customer):
    access = _login(api).json()["access"]

    response = _refresh(api, access)

    assert response.status_code == 401
    assert response.json() == {"detail": "Refresh token is invalid, expired or already used."}
