"""Password guessing against the logins (the admin's form and /api/auth/token), and weak
passwords at registration: one lockout per account and client address for both logins."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.services import LOGIN_ATTEMPT_LIMIT, LOGIN_LOCKED

pytestmark = pytest.mark.django_db

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def api() -> APIClient:
    """Django's in-process API client (this module's own, not the suite's live shop)."""
    return APIClient()


def admin_login(client, email: str, password: str, address: str):
    return client.post(
        reverse("admin:login"),
        {"username": email, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def api_login(api, email: str, password: str, address: str):
    return api.post(
        "/api/auth/token",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=address,
    )


def test_the_admin_login_locks_after_the_limit_of_wrong_passwords(client, staff):
    for _ in range(LOGIN_ATTEMPT_LIMIT):
        wrong = admin_login(client, staff.email, "wrong-password-1", ATTACKER)
        assert wrong.status_code == 200 and LOGIN_LOCKED not in wrong.text
    locked = admin_login(client, staff.email, "staff-pass-1234", ATTACKER)
    assert locked.status_code == 200, "the right password got in during the lockout"
    assert LOGIN_LOCKED in locked.text
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_address_so_a_guesser_cannot_lock_the_owner_out(client, staff):
    for _ in range(LOGIN_ATTEMPT_LIMIT + 1):
        admin_login(client, staff.email, "wrong-password-1", ATTACKER)
    owner = admin_login(client, staff.email, "staff-pass-1234", OWNER)
    assert owner.status_code == 302 and owner["Location"] == "/admin/"


def test_the_admin_and_the_api_share_one_lockout(client, api, staff):
    for _ in range(LOGIN_ATTEMPT_LIMIT):
        admin_login(client, staff.email, "wrong-password-1", ATTACKER)
    locked = api_login(api, staff.email, "staff-pass-1234", ATTACKER)
    assert locked.status_code == 429
    assert list(locked.json()) == ["detail"]
    assert locked.json()["detail"].startswith(LOGIN_LOCKED)
    assert int(locked["Retry-After"]) > 0
    assert api_login(api, staff.email, "staff-pass-1234", OWNER).status_code == 200


def test_api_guesses_behind_the_proxy_are_keyed_on_the_forwarded_client(api, customer):
    # Every request reaches the backend from the proxy (loopback); the client is the address
    # the proxy appended to X-Forwarded-For, not one the client wrote before it.
    def guess(forwarded: str, password: str = "wrong-password-1"):
        return api.post(
            "/api/auth/token",
            {"email": customer.email, "password": password},
            format="json",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for n in range(LOGIN_ATTEMPT_LIMIT):
        assert guess(f"10.0.0.{n}, {ATTACKER}").status_code == 401
    assert guess(f"10.1.1.1, {ATTACKER}").status_code == 429
    assert guess(OWNER, "ann-pass-1234").status_code == 200


@pytest.mark.parametrize(
    "password", ["password123", "12345678901", "annie@example.com", "Ann Example"]
)
def test_registration_refuses_a_weak_password_as_a_field_error(api, password):
    response = api.post(
        "/api/auth/register",
        {"email": "annie@example.com", "password": password, "name": "Ann Example"},
        format="json",
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == ["password"]
    assert body["password"] and all(isinstance(message, str) for message in body["password"])


def test_registration_accepts_the_contracts_passwords(api):
    for n, password in enumerate(["contract-pass-1234", "eight888"]):
        response = api.post(
            "/api/auth/register",
            {"email": f"ok{n}@example.com", "password": password, "name": "Ada Lovelace"},
            format="json",
        )
        assert response.status_code == 201, response.content
