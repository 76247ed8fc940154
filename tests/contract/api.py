"""A thin black-box client for the shop: builds requests, never hides the responses."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

ADMIN_EMAIL = os.environ.get("SHOP_ADMIN_EMAIL", "admin@shop.local")
ADMIN_PASSWORD = os.environ.get("SHOP_ADMIN_PASSWORD", "admin-pass-1234")
PASSWORD = "contract-pass-1234"
PROXY_LIMITED = '{"detail":"Too many requests: slow down and retry later."}'
T = TypeVar("T")
# Access tokens live 15 minutes; session-long accounts log in again well before that.
RELOGIN_AFTER = 10 * 60
LOGIN_PATIENCE = 60.0
# Once a domain is extracted, other backends see its writes through asynchronous sync: a write
# in one domain is waited for (bounded) before another domain is asked about it.
SYNC_TIMEOUT = float(os.environ.get("CONTRACT_SYNC_TIMEOUT", "15"))

THIS_YEAR = datetime.now(UTC).year
GOOD_CARD = {
    "card_number": "4242424242424242",
    "exp_month": 12,
    "exp_year": THIS_YEAR + 3,
    "cvc": "123",
}
# Passes Luhn, so only the test gateway's rule for numbers ending in 0002 rejects it.
DECLINED_CARD = {**GOOD_CARD, "card_number": "4000000000000002"}


def eventually(probe: Callable[[], T], *, timeout: float = SYNC_TIMEOUT) -> T:
    """The probe's first truthy result, or its last result once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(0.2)


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.1), 5.0)
    except ValueError:
        return 1.0


def _proxy_limited(response: httpx.Response) -> bool:
    return response.status_code == 429 and response.text.strip() == PROXY_LIMITED


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Account:
    id: int
    email: str
    password: str
    name: str
    access: str
    refresh: str
    issued_at: float = field(default_factory=time.monotonic)

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.access)


class Unique:
    """Names that differ on every run, so the suite can run again against the same shop."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:10]
        self._counter = itertools.count(1)

    def token(self, prefix: str = "zq") -> str:
        # Letters and digits only, so that a search for it matches exactly one word.
        return f"{prefix}{self.run}n{next(self._counter)}"

    def email(self) -> str:
        return f"{self.token('user')}@example.com"

    def sku(self) -> str:
        return self.token("SKU").upper()


class ShopApi:
    def __init__(self, client: httpx.Client, unique: Unique) -> None:
        self.client = client
        self.unique = unique

    # -- raw calls (responses are returned for the tests to judge) -------------------------
    def get(self, path: str, account: Account | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self._headers(account, kwargs), **kwargs)

    def post(self, path: str, account: Account | None = None, **kwargs: Any) -> httpx.Response:
        # A proxy limits auth writes (registrations, logins) per client address, and this
        # suite is one client: it waits out the proxy's own 429s, never a backend's.
        headers = self._headers(account, kwargs)
        deadline = time.monotonic() + LOGIN_PATIENCE
        while True:
            response = self.client.post(path, headers=headers, **kwargs)
            if not _proxy_limited(response) or time.monotonic() >= deadline:
                return response
            time.sleep(_retry_after(response))

    def put(self, path: str, account: Account | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.put(path, headers=self._headers(account, kwargs), **kwargs)

    def patch(self, path: str, account: Account | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.patch(path, headers=self._headers(account, kwargs), **kwargs)

    def delete(self, path: str, account: Account | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, headers=self._headers(account, kwargs), **kwargs)

    def _headers(self, account: Account | None, kwargs: dict[str, Any]) -> dict[str, str]:
        headers = dict(kwargs.pop("headers", None) or {})
        if account is not None:
            if time.monotonic() - account.issued_at > RELOGIN_AFTER:
                self._relogin(account)
            headers.update(account.auth)
        return headers

    def _relogin(self, account: Account) -> None:
        tokens = self.login(account.email, account.password)
        account.access, account.refresh = tokens["access"], tokens["refresh"]
        account.issued_at = time.monotonic()

    # -- happy paths used to set up a test ---------------------------------------------------
    def login(self, email: str, password: str) -> dict:
        # A proxy rate-limits token requests per client address; set-up logins wait their turn.
        deadline = time.monotonic() + LOGIN_PATIENCE
        while True:
            response = self.post("/api/auth/token", json={"email": email, "password": password})
            if response.status_code != 429 or time.monotonic() >= deadline:
                break
            time.sleep(_retry_after(response))
        assert response.status_code == 200, response.text
        return response.json()

    def account(self, email: str, password: str) -> Account:
        tokens = self.login(email, password)
        me = self.client.get("/api/auth/me", headers=bearer(tokens["access"]))
        assert me.status_code == 200, me.text
        body = me.json()
        return Account(
            id=body["id"],
            email=email,
            password=password,
            name=body["name"],
            access=tokens["access"],
            refresh=tokens["refresh"],
        )

    def register(self, *, name: str | None = None) -> Account:
        email = self.unique.email()
        name = name or f"Customer {self.unique.token('n')}"
        response = self.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert response.status_code == 201, response.text
        return self.account(email, PASSWORD)

    def first_category(self) -> str:
        return self.categories()[0]

    def categories(self) -> list[str]:
        response = self.get("/api/categories", params={"page_size": 100})
        assert response.status_code == 200, response.text
        return [item["slug"] for item in response.json()["results"]]

    def create_product(self, staff: Account, **fields: Any) -> dict:
        body = {
            "sku": self.unique.sku(),
            "name": f"Contract item {self.unique.token()}",
            "description": "Made by the contract suite.",
            "price": "10.00",
            "category": self.first_category(),
            "stock": 10,
            **fields,
        }
        response = self.post("/api/products", staff, json=body)
        assert response.status_code == 201, response.text
        product = response.json()
        self.await_orderable(staff, product["id"])
        return product

    def await_orderable(self, account: Account, product_id: int) -> None:
        """Wait until the orders domain knows the product (quantity 0 is a no-op there)."""

        def orderable() -> bool:
            response = self.put(f"/api/cart/items/{product_id}", account, json={"quantity": 0})
            return response.status_code == 200

        assert eventually(orderable), f"product {product_id} never became orderable"

    def product(self, product_id: int) -> dict:
        response = self.get(f"/api/products/{product_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def set_quantity(self, account: Account, product_id: int, quantity: int) -> dict:
        response = self.put(f"/api/cart/items/{product_id}", account, json={"quantity": quantity})
        assert response.status_code == 200, response.text
        return response.json()

    def cart(self, account: Account) -> dict:
        response = self.get("/api/cart", account)
        assert response.status_code == 200, response.text
        return response.json()

    def checkout(self, account: Account, lines: dict[int, int]) -> dict:
        for product_id, quantity in lines.items():
            self.set_quantity(account, product_id, quantity)
        response = self.post("/api/orders", account)
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, account: Account, order_id: int) -> dict:
        response = self.get(f"/api/orders/{order_id}", account)
        assert response.status_code == 200, response.text
        return response.json()

    def pay(self, account: Account, order_id: int, card: dict | None = None) -> httpx.Response:
        return self.post(f"/api/orders/{order_id}/pay", account, json=card or GOOD_CARD)
