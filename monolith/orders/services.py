"""Writes of the orders domain: the cart, checkout, cancellation and payment status."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from catalog import services as catalog_services
from catalog.models import Product

from .models import CartItem, Order, OrderItem
from .selectors import Cart, get_cart


class EmptyCart(Exception):
    pass


class NotInCart(Exception):
    pass


class NotCancellable(Exception):
    pass


@transaction.atomic
def set_cart_quantity(*, user: User, product: Product, quantity: int) -> Cart:
    if quantity == 0:
        CartItem.objects.filter(user=user, product=product).delete()
    else:
        CartItem.objects.update_or_create(
            user=user, product=product, defaults={"quantity": quantity}
        )
    return get_cart(user=user)


@transaction.atomic
def remove_from_cart(*, user: User, product_id: int) -> Cart:
    deleted, _ = CartItem.objects.filter(user=user, product_id=product_id).delete()
    if not deleted:
        raise NotInCart
    return get_cart(user=user)


@transaction.atomic
def checkout(*, user: User) -> Order:
    """Turns the cart into an order, reserving all its stock or none of it.

    On OutOfStock the transaction rolls back: nothing reserved, the cart kept.
    """
    cart = get_cart(user=user)
    if not cart.items:
        raise EmptyCart
    catalog_services.reserve_stock(
        quantities={line.product_id: line.quantity for line in cart.items}
    )
    order = Order.objects.create(user=user, total=cart.total)
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            unit_price=line.unit_price,
            quantity=line.quantity,
            line_total=line.line_total,
        )
        for line in cart.items
    )
    CartItem.objects.filter(user=user).delete()
    return order


@transaction.atomic
def cancel_order(*, order: Order) -> Order:
    # The conditional update is the lock: of two concurrent cancels only one restores stock.
    cancelled = Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_PAYMENT).update(
        status=Order.Status.CANCELLED, cancelled_at=timezone.now()
    )
    if not cancelled:
        raise NotCancellable
    catalog_services.release_stock(
        quantities={item.product_id: item.quantity for item in order.items.all()}
    )
    order.refresh_from_db()
    return order


def lock_payable_order(*, user: User, order_id: int) -> Order | None:
    """The user's order, row-locked until the surrounding transaction ends."""
    return Order.objects.select_for_update().filter(user=user, pk=order_id).first()


def mark_order_paid(*, order_id: int, paid_at: datetime) -> bool:
    """Moves a pending order to paid; False when it was no longer pending."""
    return bool(
        Order.objects.filter(pk=order_id, status=Order.Status.PENDING_PAYMENT).update(
            status=Order.Status.PAID, paid_at=paid_at
        )
    )
