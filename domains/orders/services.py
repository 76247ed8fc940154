"""Writes of the orders domain: the cart, checkout, cancellation and payment status.

Every write runs where this backend owns the orders domain: the synced models check it inside
the transaction and record each row's change for the copies, so rows are saved and deleted one
by one (bulk writes would skip the outbox). A state transition locks its order row first and
checks the state under the lock: of two concurrent transitions only one moves it.
"""

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from catalog.apps import DOMAIN as CATALOG
from catalog.models import Product
from catalog.services import OutOfStock, release_stock
from strangler.sync import compensations
from strangler.sync.ownership import NotOwner, check_ownership

from . import stock
from .apps import DOMAIN
from .models import CartItem, Order, OrderItem
from .selectors import Cart, CartLine, get_cart


class EmptyCart(Exception):
    pass


class NotInCart(Exception):
    pass


class NotCancellable(Exception):
    pass


def _cart_line(*, user: User, product_id: int) -> CartItem | None:
    """The user's line of the product, row-locked until the surrounding transaction ends."""
    return CartItem.objects.select_for_update().filter(user=user, product_id=product_id).first()


@transaction.atomic
def set_cart_quantity(*, user: User, product: Product, quantity: int) -> Cart:
    line = _cart_line(user=user, product_id=product.pk)
    if line is None and quantity:
        try:
            with transaction.atomic():
                CartItem.objects.create(user=user, product=product, quantity=quantity)
            return get_cart(user=user)
        except IntegrityError:
            # Two first puts of one product at once: the unique line refuses the second,
            # which sets the line the first one made instead (get_or_create's way).
            line = _cart_line(user=user, product_id=product.pk)
            if line is None:
                raise
    if line is not None and quantity == 0:
        line.delete()
    elif line is not None:
        line.quantity = quantity
        line.save(update_fields=["quantity"])
    return get_cart(user=user)


@transaction.atomic
def remove_from_cart(*, user: User, product_id: int) -> Cart:
    line = _cart_line(user=user, product_id=product_id)
    if line is None:
        raise NotInCart
    line.delete()
    return get_cart(user=user)


def checkout(*, user: User) -> Order:
    """Turns the cart into an order, reserving all its stock or none of it.

    On OutOfStock nothing is reserved and the cart is kept. The reservation's key is this
    checkout attempt's: a retried call never takes the stock twice.
    """
    # A cheap look before stock is reserved anywhere: a checkout reaching a backend that does
    # not own the orders is forwarded to the owner (owned_write) without taking stock first.
    check_ownership(DOMAIN)
    key = f"checkout-{user.pk}-{uuid.uuid4().hex}"
    if stock.owned_here():
        try:
            return _checkout_owning_the_catalog(user=user, key=key)
        except NotOwner as exc:
            if exc.ownership.domain != CATALOG:
                raise
            # The catalog moved away in between: reserve on its new owner.
    return _checkout_on_the_catalog_owner(user=user, key=key)


@transaction.atomic
def _checkout_owning_the_catalog(*, user: User, key: str) -> Order:
    cart = _cart_to_order(user=user)
    priced = stock.reserve_locally(key=key, quantities=_quantities(cart))
    return _place_order(user=user, cart=cart, key=key, priced=priced)


def _checkout_on_the_catalog_owner(*, user: User, key: str) -> Order:
    """Reserves on the catalog's owner, then writes the order here. The release is recorded
    before the reservation: a failed order releases it at once, a checkout that dies in
    between is released by the sweeper."""
    cart = _cart_to_order(user=user)
    with compensations.compensated(action=stock.RELEASE, key=key) as undo:
        try:
            priced = stock.reserve_remotely(key=key, quantities=_quantities(cart))
        except OutOfStock:
            undo.settle()  # refused outright: nothing is held, nothing to give back
            raise
        with transaction.atomic():
            order = _place_order(user=user, cart=cart, key=key, priced=priced)
            undo.settle()
    return order


def _cart_to_order(*, user: User) -> Cart:
    cart = get_cart(user=user)
    if not cart.items:
        raise EmptyCart
    return cart


def _quantities(cart: Cart) -> dict[int, int]:
    return {line.product_id: line.quantity for line in cart.items}


def _place_order(*, user: User, cart: Cart, key: str, priced: stock.Priced) -> Order:
    """The order of the cart's lines at the prices the catalog's owner took their units at
    (this backend's copy of the catalog may trail it)."""
    lines = [
        CartLine(
            product_id=line.product_id,
            sku=frozen.sku,
            name=frozen.name,
            unit_price=frozen.unit_price,
            quantity=line.quantity,
        )
        for line in cart.items
        for frozen in [priced.get(line.product_id, line)]
    ]
    order = Order.objects.create(user=user, total=Cart(items=lines).total, reservation_key=key)
    for line in lines:
        OrderItem.objects.create(
            order=order,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            unit_price=line.unit_price,
            quantity=line.quantity,
            line_total=line.line_total,
        )
    ordered = CartItem.objects.select_for_update().filter(
        user=user, product_id__in=[line.product_id for line in cart.items]
    )
    for item in ordered.order_by("pk"):
        item.delete()
    return order


def _move(order: Order, *, status: str, at: str, when: datetime) -> None:
    """A pending order's one transition; the caller holds its row lock and checked its state."""
    order.status = status
    setattr(order, at, when)
    order.save(update_fields=["status", at, "payment_id"])


@transaction.atomic
def cancel_order(*, order: Order) -> Order:
    # The row lock, then the state: of two concurrent cancels (or a cancel and a payment)
    # only the first moves the order, and only a cancel that moved it releases stock.
    locked = Order.objects.select_for_update().filter(pk=order.pk).first()
    if locked is None or locked.status != Order.Status.PENDING_PAYMENT:
        raise NotCancellable
    _move(locked, status=Order.Status.CANCELLED, at="cancelled_at", when=timezone.now())
    _release(key=locked.reservation_key)
    return locked


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


@transaction.atomic
def mark_order_paid(*, order_id: int, payment_id: int, paid_at: datetime) -> bool:
    """Moves a pending order to paid by `payment_id`; True also when that payment already did
    (a replay), False when the order is gone, cancelled or paid by another payment."""
    locked = Order.objects.select_for_update().filter(pk=order_id).first()
    if locked is None:
        return False
    if locked.status == Order.Status.PAID:
        return locked.payment_id == payment_id
    if locked.status != Order.Status.PENDING_PAYMENT:
        return False
    locked.payment_id = payment_id
    _move(locked, status=Order.Status.PAID, at="paid_at", when=paid_at)
    return True
