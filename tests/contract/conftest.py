"""Fixtures of the black-box contract suite: one HTTP client, accounts and data made via the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.contract.api import ADMIN_EMAIL, ADMIN_PASSWORD, Account, ShopApi, Unique


@pytest.fixture(scope="session")
def client(base_url: str) -> Iterator[httpx.Client]:
    # Redirects are not followed: a redirect where the contract promises an answer is a bug.
    with httpx.Client(base_url=base_url, timeout=30.0, follow_redirects=False) as http:
        yield http


@pytest.fixture(scope="session")
def unique() -> Unique:
    return Unique()


@pytest.fixture(scope="session")
def shop(client: httpx.Client, unique: Unique) -> ShopApi:
    return ShopApi(client, unique)


@pytest.fixture(scope="session")
def admin(shop: ShopApi) -> Account:
    account = shop.account(ADMIN_EMAIL, ADMIN_PASSWORD)
    me = shop.get("/api/auth/me", account).json()
    assert me["is_staff"] is True, f"{ADMIN_EMAIL} must be staff (SHOP_ADMIN_EMAIL): {me}"
    return account


@pytest.fixture
def customer(shop: ShopApi) -> Account:
    """A fresh customer: empty cart, no orders, unused refresh token."""
    return shop.register()


@pytest.fixture(scope="session")
def shopper(shop: ShopApi) -> Account:
    """One customer shared by tests that only touch products and orders they create themselves
    (registering costs a password hash, which dominates the suite's run time)."""
    return shop.register()


@pytest.fixture
def make_customer(shop: ShopApi) -> Callable[..., Account]:
    return shop.register


@pytest.fixture
def make_product(shop: ShopApi, admin: Account) -> Callable[..., dict]:
    def make(**fields: object) -> dict:
        return shop.create_product(admin, **fields)

    return make


@pytest.fixture
def product(make_product: Callable[..., dict]) -> dict:
    return make_product()
