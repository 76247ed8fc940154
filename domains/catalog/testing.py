"""Pytest fixtures of the catalog domain, for every project that installs it (load with
`pytest_plugins = ["catalog.testing"]` in the project's root conftest)."""

from decimal import Decimal

import pytest

from strangler.sync.testing import written_here

from .models import Category, Product


@pytest.fixture
def books(db) -> Category:
    # On a backend holding a copy of the catalog, as the sync writes it there.
    with written_here(Category):
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
        with written_here(Product):
            return Product.objects.create(**{**defaults, **fields})

    return make


@pytest.fixture
def internal_headers(settings) -> dict[str, str]:
    """The internal API's credential, as a backend calling another presents it."""
    from strangler.service.internal_token import HEADER

    settings.STRANGLER_INTERNAL_TOKEN = "test-internal-token"
    return {f"HTTP_{HEADER.upper().replace('-', '_')}": "test-internal-token"}
