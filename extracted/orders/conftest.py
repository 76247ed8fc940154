"""Fixtures of the orders service's tests: the domains' own (an API client, users, bearer
headers, products, carts, orders; users and products written as the sync writes these copies),
and which backend owns what."""

import pytest

from strangler.sync.ownership import set_ownership

pytest_plugins = ["accounts.testing", "catalog.testing", "orders.testing"]


@pytest.fixture(autouse=True)
def _service_owns_the_orders(db) -> None:
    """The API as clients see it once the service serves it: after `5-orders`, when the catalog
    is the catalog service's (since `4-catalog`) and the users the auth service's."""
    set_ownership(domain="auth", owner="auth", state="active")
    set_ownership(domain="catalog", owner="catalog", state="active")
    set_ownership(domain="orders", owner="orders", state="active")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _other_backends_out_of_reach(settings):
    """Whatever runs on this machine's default ports (a demo shop), the tests never call it:
    the other backends and the proxy's internal listener are where nothing listens."""
    from strangler.conf import strangler_settings

    nowhere = "http://127.0.0.1:9"
    settings.STRANGLER_BACKEND_URLS = {name: nowhere for name in strangler_settings.BACKEND_URLS}
    settings.STRANGLER_INTERNAL_PROXY_URL = nowhere
