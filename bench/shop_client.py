"""Prepare the benchmark's data through the public API: product ids, stock, customers' tokens."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PAGE_SIZE_MAX = 100
STOCK_FOR_CHECKOUTS = 1_000_000
CUSTOMER_PASSWORD = "bench-pass-1234"


class SetupError(RuntimeError):
    """The shop answered a set-up call unexpectedly."""


@dataclass(frozen=True)
class CheckoutFixtures:
    tokens: list[str]
    product_ids: list[int]


def _expect(response: httpx.Response, status: int) -> dict:
    if response.status_code != status:
        raise SetupError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code} (expected {status}): {response.text[:300]}"
        )
    return response.json()


def access_token(client: httpx.Client, *, email: str, password: str) -> str:
    body = _expect(client.post("/api/auth/token", json={"email": email, "password": password}), 200)
    return body["access"]


def all_product_ids(client: httpx.Client) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        body = _expect(
            client.get("/api/products", params={"page_size": PAGE_SIZE_MAX, "page": page}), 200
        )
        ids.extend(product["id"] for product in body["results"])
        if body["next"] is None:
            return ids
        page += 1


def stock_up(client: httpx.Client, *, staff_token: str, product_ids: list[int]) -> None:
    """Give the checkout products so much stock that no checkout of the run can run out."""
    headers = {"Authorization": f"Bearer {staff_token}"}
    for product_id in product_ids:
        _expect(
            client.patch(
                f"/api/products/{product_id}",
                json={"stock": STOCK_FOR_CHECKOUTS},
                headers=headers,
            ),
            200,
        )


def customer_email(number: int) -> str:
    return f"bench-customer-{number}@bench.shop.local"


def customer_tokens(client: httpx.Client, *, count: int) -> list[str]:
    tokens = []
    for number in range(count):
        email = customer_email(number)
        _expect(
            client.post(
                "/api/auth/register",
                json={"email": email, "password": CUSTOMER_PASSWORD, "name": f"Bench {number}"},
            ),
            201,
        )
        tokens.append(access_token(client, email=email, password=CUSTOMER_PASSWORD))
    return tokens


def prepare_checkout(
    client: httpx.Client,
    *,
    staff_email: str,
    staff_password: str,
    product_ids: list[int],
    pool_size: int,
    customers: int,
) -> CheckoutFixtures:
    # Spread the pool over the catalogue so that checkouts lock different rows, as real ones do.
    step = max(1, len(product_ids) // pool_size)
    pool = product_ids[::step][:pool_size]
    staff_token = access_token(client, email=staff_email, password=staff_password)
    stock_up(client, staff_token=staff_token, product_ids=pool)
    return CheckoutFixtures(tokens=customer_tokens(client, count=customers), product_ids=pool)
