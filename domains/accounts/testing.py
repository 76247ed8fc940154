"""Test fixtures of the accounts domain, for every project that installs it (a pytest plugin:
`pytest_plugins = ["accounts.testing"]` in the project's root conftest)."""

import pytest


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    return APIClient()


def bearer_headers(user) -> dict[str, str]:
    from strangler.service.tokens import issue_access_token

    token = issue_access_token(user_id=user.pk, email=user.email, is_staff=user.is_staff)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _user(email: str, password: str, name: str, **fields):
    from accounts.models import User
    from strangler.sync.testing import written_here

    # On a backend holding a copy of the users, as the sync writes them there.
    with written_here(User):
        return User.objects.create_user(email=email, password=password, name=name, **fields)


@pytest.fixture
def customer(db):
    return _user("ann@example.com", "ann-pass-1234", "Ann")


@pytest.fixture
def other_customer(db):
    return _user("bob@example.com", "bob-pass-1234", "Bob")


@pytest.fixture
def staff(db):
    return _user("staff@example.com", "staff-pass-1234", "Staff", is_staff=True)


@pytest.fixture
def as_customer(customer) -> dict[str, str]:
    return bearer_headers(customer)


@pytest.fixture
def as_other_customer(other_customer) -> dict[str, str]:
    return bearer_headers(other_customer)


@pytest.fixture
def as_staff(staff) -> dict[str, str]:
    return bearer_headers(staff)


@pytest.fixture
def bearer():
    return bearer_headers
