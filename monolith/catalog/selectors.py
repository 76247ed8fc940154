from decimal import Decimal

from django.db.models import Q, QuerySet

from .models import Category, Product

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
    return Product.objects.select_related("category").filter(pk=product_id).first()


def products_by_id(*, product_ids: list[int]) -> dict[int, Product]:
    return {p.pk: p for p in Product.objects.select_related("category").filter(pk__in=product_ids)}
