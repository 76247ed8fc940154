"""Payments through the built-in test gateway (shop-api.md, domain `payments`)."""

from __future__ import annotations

import pytest

from tests.contract import shapes
from tests.contract.api import DECLINED_CARD, GOOD_CARD, THIS_YEAR
from tests.contract.test_catalog import MISSING_ID

CARD_FIELDS = ("card_number", "exp_month", "exp_year", "cvc")
EXPIRY_ERROR_KEYS = {"exp_month", "exp_year", "non_field_errors", "detail"}


@pytest.fixture
def order(shop, shopper, make_product):
    product = make_product(price="12.34", stock=5)
    return shop.checkout(shopper, {product["id"]: 2})


def _assert_still_pending(shop, shopper, order):
    assert shop.order(shopper, order["id"]) == order


def test_paying_marks_the_order_paid_and_returns_the_payment(shop, shopper, order):
    response = shop.pay(shopper, order["id"])

    payment = shapes.payment(shapes.json_body(response, 200))
    assert payment["order_id"] == order["id"]
    assert payment["amount"] == order["total"] == "24.68"
    paid = shapes.order(shop.order(shopper, order["id"]))
    assert paid["status"] == "paid"
    assert shapes.timestamp(paid["paid_at"]) >= shapes.timestamp(order["created_at"])
    assert {**paid, "status": order["status"], "paid_at": None} == order


def test_paying_twice_is_a_409_not_payable(shop, shopper, order):
    first = shapes.json_body(shop.pay(shopper, order["id"]), 200)

    again = shop.pay(shopper, order["id"])

    shapes.error_detail(again, 409, code="not_payable")
    paid = shop.order(shopper, order["id"])
    assert paid["status"] == "paid" and first["order_id"] == order["id"]


def test_a_cancelled_order_is_not_payable(shop, shopper, order):
    shop.post(f"/api/orders/{order['id']}/cancel", shopper)

    shapes.error_detail(shop.pay(shopper, order["id"]), 409, code="not_payable")
    assert shop.order(shopper, order["id"])["status"] == "cancelled"


def test_a_card_ending_in_0002_is_declined_with_402_and_the_order_stays_payable(
    shop, shopper, order
):
    response = shop.pay(shopper, order["id"], DECLINED_CARD)

    shapes.error_detail(response, 402, code="card_declined")
    _assert_still_pending(shop, shopper, order)
    shapes.payment(shapes.json_body(shop.pay(shopper, order["id"]), 200))


@pytest.mark.parametrize("number", ["4242424242424241", "1234567812345678", "0000000000000001"])
def test_a_card_number_failing_luhn_is_a_400(shop, shopper, order, number):
    response = shop.pay(shopper, order["id"], {**GOOD_CARD, "card_number": number})

    shapes.field_errors(response, "card_number")
    _assert_still_pending(shop, shopper, order)


@pytest.mark.parametrize("number", ["", "4242", "4242-4242-4242-4242x", "abcdabcdabcdabcd"])
def test_a_malformed_card_number_is_a_400(shop, shopper, order, number):
    response = shop.pay(shopper, order["id"], {**GOOD_CARD, "card_number": number})

    shapes.field_errors(response, "card_number")
    _assert_still_pending(shop, shopper, order)


@pytest.mark.parametrize(
    ("exp_month", "exp_year"),
    [(12, THIS_YEAR - 1), (1, THIS_YEAR - 5)],
)
def test_an_expired_card_is_a_400(shop, shopper, order, exp_month, exp_year):
    card = {**GOOD_CARD, "exp_month": exp_month, "exp_year": exp_year}

    response = shop.pay(shopper, order["id"], card)

    body = shapes.json_body(response, 400)
    assert EXPIRY_ERROR_KEYS & set(body), body
    _assert_still_pending(shop, shopper, order)


@pytest.mark.parametrize("exp_month", [0, 13, -1, "june"])
def test_an_impossible_expiry_month_is_a_400(shop, shopper, order, exp_month):
    response = shop.pay(shopper, order["id"], {**GOOD_CARD, "exp_month": exp_month})

    shapes.field_errors(response, "exp_month")
    _assert_still_pending(shop, shopper, order)


@pytest.mark.parametrize("cvc", ["", "1", "12", "12a", "abc", "12345"])
def test_a_bad_cvc_is_a_400(shop, shopper, order, cvc):
    response = shop.pay(shopper, order["id"], {**GOOD_CARD, "cvc": cvc})

    shapes.field_errors(response, "cvc")
    _assert_still_pending(shop, shopper, order)


def test_paying_without_card_details_names_every_field(shop, shopper, order):
    response = shop.post(f"/api/orders/{order['id']}/pay", shopper, json={})

    shapes.field_errors(response, *CARD_FIELDS)
    _assert_still_pending(shop, shopper, order)


def test_paying_another_users_order_is_a_404(shop, make_customer, order, shopper):
    other = make_customer()

    shapes.error_detail(shop.pay(other, order["id"]), 404)
    _assert_still_pending(shop, shopper, order)


def test_paying_an_unknown_order_is_a_404(shop, shopper):
    shapes.error_detail(shop.pay(shopper, MISSING_ID), 404)


def test_paying_needs_a_token(shop, shopper, order):
    shapes.unauthorized(shop.post(f"/api/orders/{order['id']}/pay", json=GOOD_CARD))
    _assert_still_pending(shop, shopper, order)
