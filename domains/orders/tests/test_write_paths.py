"""Every write of a cart or an order records its rows for the copies, in its transaction, row by
row (strangler.sync.recorded); a backend that does not own the orders writes nothing and says so
(owned_write forwards the request on that); an order moves out of pending_payment once."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from orders import services
from orders.models import CartItem, Order, OrderItem
from strangler.sync.models import OutboxEvent
from strangler.sync.ownership import NotOwner, set_ownership
from strangler.sync.recorded import UnrecordedWrite

pytestmark = pytest.mark.django_db


def _recorded(aggregate_type: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(aggregate_type=aggregate_type).order_by("id"))


def test_a_cart_line_is_recorded_in_its_users_partition_at_every_change(
    customer, make_product, fill_cart
):
    lamp = make_product()

    fill_cart(customer, lamp, 2)
    fill_cart(customer, lamp, 3)
    fill_cart(customer, lamp, 0)

    created, changed, removed = _recorded("cart_item")
    assert [e.version for e in (created, changed, removed)] == [1, 2, 3]
    assert {e.partition_key for e in (created, changed, removed)} == {str(customer.pk)}
    assert created.payload["quantity"] == 2 and changed.payload["quantity"] == 3
    assert removed.deleted and not CartItem.objects.exists()


def test_a_checkout_records_the_order_its_lines_in_its_partition_and_the_emptied_cart(
    customer, make_product, fill_cart
):
    lamp, mug = make_product(price="2.50"), make_product(price="4.00")
    fill_cart(customer, lamp, 2)
    fill_cart(customer, mug, 1)

    order = services.checkout(user=customer)

    (placed,) = _recorded("order")
    assert placed.aggregate_id == str(order.pk)
    assert placed.payload["total"] == "9.00"
    assert placed.payload["status"] == "pending_payment"
    lines = _recorded("order_item")
    assert {e.aggregate_id for e in lines} == {str(i.pk) for i in order.items.all()}
    assert {e.partition_key for e in lines} == {placed.partition_key}
    assert [e.deleted for e in _recorded("cart_item")[-2:]] == [True, True]


def test_a_cancel_records_the_orders_one_transition(customer, make_product, fill_cart):
    fill_cart(customer, make_product(), 1)
    order = services.checkout(user=customer)

    services.cancel_order(order=order)

    placed, cancelled = _recorded("order")
    assert cancelled.version == placed.version + 1
    assert cancelled.payload["status"] == "cancelled"
    assert cancelled.payload["cancelled_at"] is not None


def test_a_paid_order_is_neither_paid_again_nor_cancelled(customer, make_product, make_order):
    order = make_order(customer, (make_product(), 1))

    assert services.mark_order_paid(order_id=order.pk, payment_id=7, paid_at=timezone.now())
    assert not services.mark_order_paid(order_id=order.pk, payment_id=8, paid_at=timezone.now())
    with pytest.raises(services.NotCancellable):
        services.cancel_order(order=order)

    assert Order.objects.get(pk=order.pk).status == "paid"
    assert [e.payload["status"] for e in _recorded("order")] == ["pending_payment", "paid"]


def test_a_cancelled_order_cannot_be_paid(customer, make_product, make_order):
    order = make_order(customer, (make_product(), 1))
    services.cancel_order(order=order)

    assert not services.mark_order_paid(order_id=order.pk, payment_id=7, paid_at=timezone.now())
    assert Order.objects.get(pk=order.pk).paid_at is None


def test_marking_an_order_paid_again_by_the_same_payment_is_a_replay(
    customer, make_product, make_order
):
    order = make_order(customer, (make_product(), 1))
    assert services.mark_order_paid(order_id=order.pk, payment_id=7, paid_at=timezone.now())
    paid_at = Order.objects.get(pk=order.pk).paid_at

    assert services.mark_order_paid(order_id=order.pk, payment_id=7, paid_at=timezone.now())
    assert Order.objects.get(pk=order.pk).paid_at == paid_at
    assert [e.payload["status"] for e in _recorded("order")] == ["pending_payment", "paid"]


def test_a_missing_order_is_not_marked_paid():
    assert not services.mark_order_paid(order_id=424242, payment_id=7, paid_at=timezone.now())


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: Order.objects.update(status="paid"), id="order-update"),
        pytest.param(lambda: OrderItem.objects.all().delete(), id="line-delete"),
        pytest.param(lambda: CartItem.objects.all().delete(), id="cart-delete"),
    ],
)
def test_bulk_writes_of_carts_and_orders_are_refused(customer, make_product, make_order, write):
    make_order(customer, (make_product(), 1))

    with pytest.raises(UnrecordedWrite):
        write()

    assert Order.objects.get().status == "pending_payment"
    assert OrderItem.objects.count() == 1


def test_a_backend_that_does_not_own_the_orders_writes_no_cart_and_no_order(
    customer, make_product, fill_cart
):
    lamp = make_product(stock=5)
    fill_cart(customer, lamp, 1)
    set_ownership(domain="orders", owner="orders", state="active")

    with pytest.raises(NotOwner):
        fill_cart(customer, lamp, 2)
    with pytest.raises(NotOwner) as refused:
        services.checkout(user=customer)

    assert refused.value.ownership.domain == "orders"
    assert CartItem.objects.get().quantity == 1
    assert not Order.objects.exists()
    # Refused before stock was taken anywhere.
    assert type(lamp).objects.get(pk=lamp.pk).stock == 5


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_cancels_one_moves_the_order(customer, make_product, make_order):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite serialises write transactions)")
    order = make_order(customer, (make_product(), 1))
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def cancel() -> None:
        start.wait()
        try:
            services.cancel_order(order=order)
            outcomes.append("cancelled")
        except services.NotCancellable:
            outcomes.append("refused")
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=cancel) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["cancelled", "refused", "refused", "refused"]
    assert [e.payload["status"] for e in _recorded("order")] == ["pending_payment", "cancelled"]
