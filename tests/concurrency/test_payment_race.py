"""Concurrent payments of one order charge once (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.concurrency.conftest import race
from tests.contract import shapes
from tests.contract.api import GOOD_CARD

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ATTEMPTS = 6


def _pending_order(shop, stock=5, quantity=2):
    product = shop.api.create_product(shop.admin, stock=stock)
    customer = shop.api.register()
    return product, customer, shop.api.checkout(customer, {product["id"]: quantity})


def test_concurrent_pays_of_one_order_charge_once(race_shop):
    _, customer, order = _pending_order(race_shop)

    responses = race(
        race_shop.base_url,
        [
            lambda client: client.post(
                f"/api/orders/{order['id']}/pay", headers=customer.auth, json=GOOD_CARD
            )
            for _ in range(ATTEMPTS)
        ],
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * (ATTEMPTS - 1), [r.text for r in responses]
    paid = [shapes.payment(r.json()) for r in responses if r.status_code == 200]
    assert paid[0]["order_id"] == order["id"] and paid[0]["amount"] == order["total"]
    for response in responses:
        if response.status_code == 409:
            shapes.error_detail(response, 409, code="not_payable")
    assert race_shop.api.order(customer, order["id"])["status"] == "paid"


def test_a_pay_racing_a_cancel_lets_exactly_one_win(race_shop):
    product, customer, order = _pending_order(race_shop, stock=5, quantity=2)
    pay = f"/api/orders/{order['id']}/pay"
    cancel = f"/api/orders/{order['id']}/cancel"

    paid, cancelled = race(
        race_shop.base_url,
        [
            lambda client: client.post(pay, headers=customer.auth, json=GOOD_CARD),
            lambda client: client.post(cancel, headers=customer.auth),
        ],
    )

    final = race_shop.api.order(customer, order["id"])
    stock = race_shop.api.product(product["id"])["stock"]
    if paid.status_code == 200:
        shapes.error_detail(cancelled, 409, code="not_cancellable")
        assert (final["status"], stock) == ("paid", 3)
    else:
        shapes.error_detail(paid, 409, code="not_payable")
        assert cancelled.status_code == 200, cancelled.text
        assert (final["status"], stock) == ("cancelled", 5)
