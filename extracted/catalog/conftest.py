"""Fixtures of the catalog service's tests: the domains' own (an API client, users, bearer
headers, products), and which backend owns the catalog."""

import pytest

from strangler.sync.ownership import set_ownership

pytest_plugins = ["accounts.testing", "catalog.testing"]


@pytest.fixture(autouse=True)
def _service_owns_the_catalog(db) -> None:
    """The API as clients see it once the service serves it: after `4-catalog`."""
    set_ownership(domain="catalog", owner="catalog", state="active")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _copied_user(email: str, name: str, **fields):
    """A user as this service has it: a copy, written the way the sync applies events."""
    from accounts.models import User
    from strangler.sync.outbox import applying_event

    with applying_event():
        return User.objects.create_user(
            email=email, password="not-checked-here", name=name, **fields
        )


@pytest.fixture
def customer(db):
    return _copied_user("ann@example.com", "Ann")


@pytest.fixture
def staff(db):
    return _copied_user("staff@example.com", "Staff", is_staff=True)
