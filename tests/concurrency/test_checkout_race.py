"""Concurrent checkouts through real gunicorn workers never oversell (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.concurrency.conftest import race
from tests.contract import shapes

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CUSTOMERS = 8


def _customers_with_the_product_in_their_cart(shop, product_id, count):
    customers = [shop.api.register() for _ in range(count)]
    for customer in customers:
        shop.api.set_quantity(customer, product_id, 1)
    return customers


def _checkout(customer):
    return lambda client: client.post("/api/orders", headers=customer.auth)


def _statuses(responses):
    return sorted(response.status_code for response in responses)


def test_only_one_of_many_concurrent_checkouts_gets_the_last_unit(race_shop):
    product = race_shop.api.create_product(race_shop.admin, stock=1)
    customers = _customers_with_the_product_in_their_cart(race_shop, product["id"], CUSTOMERS)

    responses = race(race_shop.base_url, [_checkout(customer) for customer in customers])

    assert _statuses(responses) == [201] + [409] * (CUSTOMERS - 1), [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            body = shapes.error_detail(response, 409, code="out_of_stock")
            assert body["product_id"] == product["id"]
        else:
            assert shapes.order(response.json())["status"] == "pending_payment"
    assert race_shop.api.product(product["id"])["stock"] == 0


def test_concurrent_checkouts_sell_exactly_the_stock_and_losers_keep_their_carts(race_shop):
    stock = 3
    product = race_shop.api.create_product(race_shop.admin, stock=stock)
    customers = _customers_with_the_product_in_their_cart(race_shop, product["id"], CUSTOMERS)

    responses = race(race_shop.base_url, [_checkout(customer) for customer in customers])

    assert _statuses(responses) == [201] * stock + [409] * (CUSTOMERS - stock), [
        r.text for r in responses
    ]
    assert race_shop.api.product(product["id"])["stock"] == 0
    for customer, response in zip(customers, responses, strict=True):
        cart_quantity = race_shop.api.cart(customer)["item_count"]
        assert cart_quantity == (0 if response.status_code == 201 else 1)


def test_concurrent_cancels_restore_stock_exactly_once(race_shop):
    product = race_shop.api.create_product(race_shop.admin, stock=5)
    customer = race_shop.api.register()
    order = race_shop.api.checkout(customer, {product["id"]: 2})

    responses = race(
        race_shop.base_url,
        [
            lambda client: client.post(f"/api/orders/{order['id']}/cancel", headers=customer.auth)
            for _ in range(6)
        ],
    )

    assert _statuses(responses) == [200] + [409] * 5, [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            shapes.error_detail(response, 409, code="not_cancellable")
    assert race_shop.api.product(product["id"])["stock"] == 5
