"""Fixtures of the catalog service's tests: the domains' own (an API client, users, bearer
headers, products; the users written as the sync writes this copy), and which backend owns the
catalog."""

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
