import pytest

from accounts.models import RefreshToken

pytestmark = pytest.mark.django_db


def _login(api, email="ann@example.com", password="ann-pass-1234"):
    return api.post("/api/auth/token", {"email": email, "password": password}, format="json")


def test_register_returns_the_user_without_the_password(api):
    response = api.post(
        "/api/auth/register",
        {"email": "new@example.com", "password": "long-enough", "name": "New"},
        format="json",
    )
    assert response.status_code == 201
    assert set(response.json()) == {"id", "email", "name", "is_staff", "date_joined"}
    assert response.json()["is_staff"] is False


def test_register_rejects_an_email_taken_in_another_case(api, customer):
    response = api.post(
        "/api/auth/register",
        {"email": "ANN@example.com", "password": "long-enough", "name": "Ann 2"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email already exists."]}


def test_register_rejects_short_passwords_and_bad_emails(api):
    response = api.post(
        "/api/auth/register", {"email": "nope", "password": "short", "name": "X"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_token_with_a_wrong_password_is_401_with_bearer_challenge(api, customer):
    response = _login(api, password="wrong-password")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid email or password."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_token_pair_has_the_documented_shape(api, customer):
    body = _login(api).json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900


def test_me_needs_a_token_and_returns_the_caller(api, customer):
    assert api.get("/api/auth/me").status_code == 401
    access = _login(api).json()["access"]
    response = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.json()["email"] == "ann@example.com"


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_login(api, customer):
    first = _login(api).json()
    second = api.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert second.status_code == 200
    assert second.json()["refresh"] != first["refresh"]

    replay = api.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")
    assert replay.status_code == 401

    # The replay looked like a stolen token: the token rotated from it is revoked too.
    after = api.post(
        "/api/auth/token/refresh", {"refresh": second.json()["refresh"]}, format="json"
    )
    assert after.status_code == 401
    assert RefreshToken.objects.filter(revoked_at__isnull=False).count() == 2


def test_refresh_with_an_unknown_token_is_401(api):
    response = api.post("/api/auth/token/refresh", {"refresh": "not-a-token"}, format="json")
    assert response.status_code == 401


def test_jwks_lists_rsa_public_keys_only(api):
    keys = api.get("/.well-known/jwks.json").json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert "d" not in key


def test_ten_wrong_passwords_lock_the_account_for_a_while_with_429(api, customer):
    for _ in range(10):
        assert _login(api, password="wrong-password").status_code == 401
    locked = _login(api)
    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("Too many failed login attempts.")
    assert int(locked["Retry-After"]) > 0
    # Another account is not affected.
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
    response = api.post("/api/auth/token/refresh", {"refresh": access}, format="json")
    assert response.status_code == 401


def test_a_password_rehashed_at_login_is_recorded_for_the_copies(api, customer, settings):
    from django.contrib.auth.hashers import make_password

    from strangler.sync.models import OutboxEvent

    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    customer.password = make_password("ann-pass-1234", hasher="md5")
    customer.save()
    assert _login(api).status_code == 200
    customer.refresh_from_db()
    recorded = OutboxEvent.objects.filter(aggregate_type="user").latest("id")
    assert customer.password.startswith("pbkdf2_sha256$")
    assert recorded.payload["password"] == customer.password
