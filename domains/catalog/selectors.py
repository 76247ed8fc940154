from datetime import datetime
from decimal import Decimal

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from strangler.sync.readthrough import load_missing

from .models import Category, Product, StockReservation

ORDERINGS = {"id": "id", "price": "price", "-price": "-price", "name": "name", "-name": "-name"}


def list_categories() -> QuerySet[Category]:
    return Category.objects.order_by("name", "id")


def list_products(
    *,
    category: str | None = None,
    q: str | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    ordering: str = "id",
) -> QuerySet[Product]:
    products = Product.objects.select_related("category")
    if category:
        products = products.filter(category__slug=category)
    if q:
        products = products.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if min_price is not None:
        products = products.filter(price__gte=min_price)
    if max_price is not None:
        products = products.filter(price__lte=max_price)
    # id breaks ties so that pages never overlap or skip rows.
    return products.order_by(ORDERINGS[ordering], "id")


def get_product(*, product_id: int) -> Product | None:
    """The product; on a copy, one born on the owner a moment ago (its event still on the way)
    is read through from the owner, so it can be reviewed and ordered at once."""
    product = Product.objects.select_related("category").filter(pk=product_id).first()
    if product is None:
        product = load_missing("product", product_id)
    return product


def products_by_id(*, product_ids: list[int]) -> dict[int, Product]:
    return {p.pk: p for p in Product.objects.select_related("category").filter(pk__in=product_ids)}


def reservation_summary(*, now: datetime | None = None) -> dict:
    """How many reservations hold stock and since when: a checkout that died between
    reserving and ordering shows here as an old held reservation until it is swept."""
    held = StockReservation.objects.filter(state=StockReservation.State.HELD)
    oldest = held.aggregate(oldest=Min("created_at"))["oldest"]
    now = now or timezone.now()
    return {
        "held": held.count(),
        "released": StockReservation.objects.filter(state=StockReservation.State.RELEASED).count(),
        "units_held": sum(sum(lines.values()) for lines in held.values_list("lines", flat=True)),
        "oldest_held_seconds": None if oldest is None else (now - oldest).total_seconds(),
    }


def reservation(*, key: str) -> StockReservation | None:
    return StockReservation.objects.filter(key=key).first()
