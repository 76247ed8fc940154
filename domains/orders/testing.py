"""Pytest fixtures of the orders domain, for every project that installs it (load with
`pytest_plugins = ["orders.testing"]` in the project's root conftest, after the accounts' and
the catalog's, whose fixtures these build on)."""

from decimal import Decimal

import pytest

from strangler.sync.testing import written_here

from .models import Order, OrderItem


@pytest.fixture
def fill_cart(db):
    """Puts `quantity` of a product in a user's cart, as the cart's owner writes it."""
    from . import services

    def fill(user, product, quantity: int = 1):
        return services.set_cart_quantity(user=user, product=product, quantity=quantity)

    return fill


@pytest.fixture
def make_order(db):
    """An order as a checkout leaves it, lines priced from the products (no stock is taken: a
    checkout's stock is the catalog's business); on a copy of the orders, as the sync writes it."""
    counter = iter(range(1, 10_000))

    def make(user, *lines: tuple, status: str = Order.Status.PENDING_PAYMENT) -> Order:
        # A product made with a price string keeps the string until it is read back.
        prices = [Decimal(str(product.price)) for product, _ in lines]
        total = sum((p * q for p, (_, q) in zip(prices, lines, strict=True)), Decimal("0.00"))
        with written_here(Order):
            order = Order.objects.create(
                user=user, total=total, status=status, reservation_key=f"test-order-{next(counter)}"
            )
            for price, (product, quantity) in zip(prices, lines, strict=True):
                OrderItem.objects.create(
                    order=order,
                    product_id=product.pk,
                    sku=product.sku,
                    name=product.name,
                    unit_price=price,
                    quantity=quantity,
                    line_total=price * quantity,
                )
        return order

    return make
