"""Fixtures of the auth service's tests: an API client and users made through the ORM."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from strangler.service import keys
from strangler.service.tokens import issue_access_token
from strangler.sync.ownership import set_ownership


@pytest.fixture
def owns_auth(db) -> None:
    """After the flip: this service owns the auth domain. Before it (a fresh database) the
    monolith does, and the service forwards registrations and logins there."""
    set_ownership(domain="auth", owner="auth", state="active")


@pytest.fixture
def monolith_owns_auth(db) -> None:
    set_ownership(domain="auth", owner="monolith", state="active")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def customer(db) -> User:
    return User.objects.create_user(email="ann@example.com", password="ann-pass-1234", name="Ann")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        email="staff@example.com", password="staff-pass-1234", name="Staff", is_staff=True
    )


@pytest.fixture
def bearer():
    def make(user: User) -> dict[str, str]:
        token = issue_access_token(user_id=user.pk, email=user.email, is_staff=user.is_staff)
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    return make


@pytest.fixture
def fresh_key_caches():
    """Key material is cached per process; tests that swap keys start and end with a clean cache."""
    keys.signing_key.cache_clear()
    keys.verification_keys.cache_clear()
    yield
    keys.signing_key.cache_clear()
    keys.verification_keys.cache_clear()
