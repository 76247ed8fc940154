"""The orders' internal API at the orders' owner: an order marked paid by a payment, idempotent on
the payment, refused (409 not_payable) when cancelled or paid by another one."""

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


def _pay(api, headers, order_id: int, payment_id: int):
    paid = {"payment_id": payment_id, "paid_at": "2026-12-02T10:00:00Z"}
    return api.put(f"/internal/orders/{order_id}/payment", paid, format="json", **headers)


def test_the_internal_api_marks_an_order_paid_once_per_payment(
    api, internal_headers, customer, make_product, make_order
):
    order = make_order(customer, (make_product(), 1))

    first = _pay(api, internal_headers, order.pk, 7)
    replay = _pay(api, internal_headers, order.pk, 7)
    other = _pay(api, internal_headers, order.pk, 8)

    assert first.status_code == replay.status_code == 200, first.content
    assert first.json() == {"order_id": order.pk, "status": "paid", "payment_id": 7}
    assert other.status_code == 409 and other.json()["code"] == "not_payable"
    paid = Order.objects.get(pk=order.pk)
    assert (paid.status, paid.payment_id) == ("paid", 7)


def test_the_internal_api_refuses_a_cancelled_or_missing_order(
    api, internal_headers, customer, make_product, make_order
):
    cancelled = make_order(customer, (make_product(), 1), status=Order.Status.CANCELLED)

    assert _pay(api, internal_headers, cancelled.pk, 7).json()["code"] == "not_payable"
    assert _pay(api, internal_headers, 424242, 7).status_code == 409
    assert Order.objects.get(pk=cancelled.pk).status == "cancelled"


def test_the_internal_api_is_hidden_from_callers_without_the_token(
    api, customer, make_product, make_order
):
    order = make_order(customer, (make_product(), 1))

    assert _pay(api, {}, order.pk, 7).status_code == 404
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


def test_the_internal_api_validates_the_payment(
    api, internal_headers, customer, make_product, make_order
):
    order = make_order(customer, (make_product(), 1))

    answer = api.put(
        f"/internal/orders/{order.pk}/payment", {"payment_id": 0}, format="json", **internal_headers
    )

    assert answer.status_code == 400
    assert set(answer.json()) == {"payment_id", "paid_at"}
