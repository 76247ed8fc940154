"""The order code's stock port: local reservations while this backend owns the catalog, the
catalog owner's internal API otherwise, and compensation when a checkout fails in between."""

import pytest

from catalog.models import Product, StockReservation
from orders import services, stock
from orders.models import Order
from strangler.sync import compensations
from strangler.sync.models import Compensation
from strangler.sync.ownership import set_ownership

pytestmark = pytest.mark.django_db(transaction=True)


def _fill_cart(customer, product, quantity):
    services.set_cart_quantity(user=customer, product=product, quantity=quantity)


def test_a_checkout_here_holds_its_stock_under_the_orders_reservation_key(customer, make_product):
    lamp = make_product(stock=5)
    _fill_cart(customer, lamp, 2)

    order = services.checkout(user=customer)

    reservation = StockReservation.objects.get(key=order.reservation_key)
    assert reservation.state == "held"
    assert reservation.quantities == {lamp.pk: 2}
    assert Product.objects.get(pk=lamp.pk).stock == 3


def test_two_cancels_release_the_stock_once(customer, make_product):
    lamp = make_product(stock=5)
    _fill_cart(customer, lamp, 2)
    order = services.checkout(user=customer)

    services.cancel_order(order=order)
    with pytest.raises(services.NotCancellable):
        services.cancel_order(order=order)

    assert Product.objects.get(pk=lamp.pk).stock == 5
    assert StockReservation.objects.get(key=order.reservation_key).state == "released"


def test_the_catalog_owned_elsewhere_and_unreachable_fails_the_checkout_and_orders_nothing(
    settings, customer, make_product
):
    settings.STRANGLER_INTERNAL_PROXY_URL = "http://127.0.0.1:9"  # nothing listens: refused
    lamp = make_product(stock=5)
    _fill_cart(customer, lamp, 2)
    set_ownership(domain="catalog", owner="catalog", state="active")

    with pytest.raises(stock.CatalogUnavailable):
        services.checkout(user=customer)

    assert not Order.objects.exists()
    # The release it tried at once failed too: it stays recorded for the sweeper.
    pending = Compensation.objects.get()
    assert pending.action == stock.RELEASE
    assert pending.attempts == 1


def test_a_cancel_while_the_catalog_is_owned_elsewhere_schedules_the_release(
    settings, customer, make_product
):
    settings.STRANGLER_INTERNAL_PROXY_URL = "http://127.0.0.1:9"
    lamp = make_product(stock=5)
    _fill_cart(customer, lamp, 2)
    order = services.checkout(user=customer)
    set_ownership(domain="catalog", owner="catalog", state="active")

    services.cancel_order(order=order)

    pending = Compensation.objects.get(key=order.reservation_key)
    assert pending.action == stock.RELEASE
    # Once the catalog is back here (a rollback), the sweeper releases it, once.
    set_ownership(domain="catalog", owner="monolith", state="active")
    Compensation.objects.update(due_at=pending.created_at)
    assert compensations.sweep() == 1
    assert compensations.sweep() == 0
    assert Product.objects.get(pk=lamp.pk).stock == 5
