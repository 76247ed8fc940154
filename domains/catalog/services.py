"""Writes of the catalog domain: products, and the stock that checkouts reserve and release.

Every write runs where this backend owns the catalog (the synced models check it inside the
transaction and record the change for the copies).
"""

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from .models import Category, Product, StockReservation


class OutOfStock(Exception):
    def __init__(self, product_id: int) -> None:
        super().__init__(product_id)
        self.product_id = product_id


class ReservationReleased(Exception):
    """The key's reservation was released (or swept before it arrived): it cannot hold stock
    again; a new checkout attempt has a new key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@transaction.atomic
def create_product(
    *,
    sku: str,
    name: str,
    price: Decimal,
    category: Category,
    stock: int,
    description: str = "",
) -> Product:
    return Product.objects.create(
        sku=sku, name=name, description=description, price=price, category=category, stock=stock
    )


@transaction.atomic
def update_product(*, product: Product, changes: Mapping[str, object]) -> Product:
    """Writes only the fields changed: a whole-row save would put back the stock read before
    a checkout that reserved in between."""
    for field, value in changes.items():
        setattr(product, field, value)
    product.save(update_fields=[*changes, "updated_at"])
    return product


@transaction.atomic
def delete_product(*, product: Product) -> None:
    product.delete()


def _move_stock(quantities: Mapping[int, int], *, sign: int) -> dict[int, Product]:
    """Adds `sign` times the units to each product, or nothing (OutOfStock) if one lacks them.

    The rows are locked in id order before any is read, so two checkouts never deadlock and the
    last unit cannot go twice (SQLite: the write transaction is taken up front, see
    strangler.service.config). A product deleted since is skipped on release: nobody can buy it.
    """
    products = {
        p.pk: p
        for p in Product.objects.select_for_update().filter(pk__in=list(quantities)).order_by("pk")
    }
    for product_id in sorted(quantities):
        product = products.get(product_id)
        if product is None:
            if sign < 0:
                raise OutOfStock(product_id)
            continue
        product.stock += sign * quantities[product_id]
        if product.stock < 0:
            raise OutOfStock(product_id)
    for product_id in sorted(quantities):
        if product_id in products:
            products[product_id].save(update_fields=["stock"])
    return products


@transaction.atomic
def reserve_stock(*, key: str, quantities: Mapping[int, int]) -> StockReservation:
    """Takes the units of every line under `key`, or none of them (OutOfStock), and records what
    they cost then (read under the rows' locks: the price the order freezes).

    Idempotent: the same key answers the reservation it already made, whatever the lines.
    """
    existing = StockReservation.objects.select_for_update().filter(key=key).first()
    if existing is not None:
        if existing.state == StockReservation.State.RELEASED:
            raise ReservationReleased(key)
        return existing
    lines = {product_id: units for product_id, units in quantities.items() if units > 0}
    products = _move_stock(lines, sign=-1)
    return StockReservation.objects.create(
        key=key,
        lines={str(product_id): units for product_id, units in sorted(lines.items())},
        priced={
            str(product.pk): {
                "sku": product.sku,
                "name": product.name,
                "unit_price": str(product.price),
            }
            for product in products.values()
        },
    )


@transaction.atomic
def release_stock(*, key: str) -> StockReservation:
    """Gives back what `key` holds, exactly once; a key never reserved is recorded released."""
    reservation = StockReservation.objects.select_for_update().filter(key=key).first()
    if reservation is None:
        return StockReservation.objects.create(
            key=key, state=StockReservation.State.RELEASED, released_at=timezone.now()
        )
    if reservation.state == StockReservation.State.HELD:
        _move_stock(reservation.quantities, sign=1)
        reservation.state = StockReservation.State.RELEASED
        reservation.released_at = timezone.now()
        reservation.save(update_fields=["state", "released_at"])
    return reservation
