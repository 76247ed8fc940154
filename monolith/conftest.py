from decimal import Decimal

import pytest

from catalog.models import Category, Product


@pytest.fixture
def books(db) -> Category:
    return Category.objects.create(slug="books", name="Books")


@pytest.fixture
def make_product(books):
    counter = iter(range(1, 10_000))

    def make(**fields) -> Product:
        n = next(counter)
        defaults = {
            "sku": f"SKU-{n}",
            "name": f"Product {n}",
            "description": "",
            "price": Decimal("10.00"),
            "category": books,
            "stock": 5,
        }
        return Product.objects.create(**{**defaults, **fields})

    return make
