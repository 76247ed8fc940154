"""Writes of the orders domain: the cart, checkout, cancellation and payment status."""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from catalog.models import Product
from catalog.services import OutOfStock, release_stock
from strangler.sync import compensations
from strangler.sync.ownership import NotOwner

from . import stock
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


def checkout(*, user: User) -> Order:
    """Turns the cart into an order, reserving all its stock or none of it.

    On OutOfStock nothing is reserved and the cart is kept. The reservation's key is this
    checkout attempt's: a retried call never takes the stock twice.
    """
    key = f"checkout-{user.pk}-{uuid.uuid4().hex}"
    if stock.owned_here():
        try:
            return _checkout_owning_the_catalog(user=user, key=key)
        except NotOwner:
            pass  # the catalog moved away in between: reserve on its new owner
    return _checkout_on_the_catalog_owner(user=user, key=key)


@transaction.atomic
def _checkout_owning_the_catalog(*, user: User, key: str) -> Order:
    cart = _cart_to_order(user=user)
    stock.reserve_locally(key=key, quantities=_quantities(cart))
    return _place_order(user=user, cart=cart, key=key)


def _checkout_on_the_catalog_owner(*, user: User, key: str) -> Order:
    """Reserves on the catalog's owner, then writes the order here. The release is recorded
    before the reservation: a failed order releases it at once, a checkout that dies in
    between is released by the sweeper."""
    cart = _cart_to_order(user=user)
    with compensations.compensated(action=stock.RELEASE, key=key) as undo:
        try:
            stock.reserve_remotely(key=key, quantities=_quantities(cart))
        except OutOfStock:
            undo.settle()  # refused outright: nothing is held, nothing to give back
            raise
        with transaction.atomic():
            order = _place_order(user=user, cart=cart, key=key)
            undo.settle()
    return order


def _cart_to_order(*, user: User) -> Cart:
    cart = get_cart(user=user)
    if not cart.items:
        raise EmptyCart
    return cart


def _quantities(cart: Cart) -> dict[int, int]:
    return {line.product_id: line.quantity for line in cart.items}


def _place_order(*, user: User, cart: Cart, key: str) -> Order:
    order = Order.objects.create(user=user, total=cart.total, reservation_key=key)
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
    CartItem.objects.filter(
        user=user, product_id__in=[line.product_id for line in cart.items]
    ).delete()
    return order


@transaction.atomic
def cancel_order(*, order: Order) -> Order:
    # The conditional update is the lock: of two concurrent cancels only one releases stock.
    cancelled = Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_PAYMENT).update(
        status=Order.Status.CANCELLED, cancelled_at=timezone.now()
    )
    if not cancelled:
        raise NotCancellable
    _release(key=order.reservation_key)
    order.refresh_from_db()
    return order


def _release(*, key: str) -> None:
    """Inside the cancel's transaction: here when this backend owns the catalog, else on its
    owner once the cancel commits (retried by the sweeper until it succeeds)."""
    if stock.owned_here():
        try:
            with transaction.atomic():
                release_stock(key=key)
            return
        except NotOwner:
            pass
    compensations.schedule(action=stock.RELEASE, key=key)


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
