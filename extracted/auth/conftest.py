"""Fixtures of the auth service's tests: the accounts domain's own (an API client, users made
through the ORM, bearer headers), and which backend owns the domain."""

import pytest

from strangler.service import keys
from strangler.sync.ownership import set_ownership

pytest_plugins = ["accounts.testing"]


@pytest.fixture
def owns_auth(db) -> None:
    """After the flip: this service owns the auth domain. Before it (a fresh database) the
    monolith does, and the service forwards registrations and logins there."""
    set_ownership(domain="auth", owner="auth", state="active")


@pytest.fixture
def monolith_owns_auth(db) -> None:
    set_ownership(domain="auth", owner="monolith", state="active")


@pytest.fixture
def fresh_key_caches():
    """Key material is cached per process; tests that swap keys start and end with a clean cache."""
    keys.signing_key.cache_clear()
    keys.verification_keys.cache_clear()
    yield
    keys.signing_key.cache_clear()
    keys.verification_keys.cache_clear()
