"""Writes of the catalog domain, including the stock moves that orders ask for."""

from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from .models import Category, Product


class OutOfStock(Exception):
    def __init__(self, product_id: int) -> None:
        super().__init__(product_id)
        self.product_id = product_id


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
    for field, value in changes.items():
        setattr(product, field, value)
    product.save()
    return product


@transaction.atomic
def delete_product(*, product: Product) -> None:
    product.delete()


@transaction.atomic
def reserve_stock(*, quantities: Mapping[int, int]) -> None:
    """Takes stock for every line or for none.

    Each decrement is a conditional UPDATE, so concurrent checkouts of the last unit cannot both
    succeed on any database; rows are touched in id order so two checkouts never deadlock.
    """
    for product_id in sorted(quantities):
        taken = Product.objects.filter(pk=product_id, stock__gte=quantities[product_id]).update(
            stock=F("stock") - quantities[product_id]
        )
        if not taken:
            raise OutOfStock(product_id)


@transaction.atomic
def release_stock(*, quantities: Mapping[int, int]) -> None:
    for product_id in sorted(quantities):
        Product.objects.filter(pk=product_id).update(stock=F("stock") + quantities[product_id])
