"""A copy trailing its owner reads a missing row through from the owner, once."""

import pytest

from strangler.sync.ownership import set_ownership

pytestmark = pytest.mark.django_db


def test_a_product_born_on_the_owner_a_moment_ago_is_read_through_and_kept(
    fake_auth_backend, books
):
    from catalog.models import Product
    from catalog.selectors import get_product

    asked = []
    row = {
        "id": 5001,
        "version": 3,
        "payload": {
            "sku": "NEW-1",
            "name": "Fresh",
            "description": "",
            "price": "5.00",
            "category": books.pk,
            "stock": 3,
            "created_at": "2026-12-02T10:00:00Z",
            "updated_at": "2026-12-02T10:00:00Z",
        },
    }

    def owner(method, path, headers, body):
        asked.append(path)
        return 200, {"rows": [row], "next_after": None}

    fake_auth_backend(owner, backend="catalog")
    set_ownership(domain="catalog", owner="catalog", state="active")

    product = get_product(product_id=5001)
    again = get_product(product_id=5001)

    assert (product.name, product.stock) == ("Fresh", 3)
    assert again.pk == 5001
    assert len(asked) == 1
    assert Product.objects.filter(pk=5001).exists()


def test_the_owner_never_reads_through(books):
    from catalog.selectors import get_product

    assert get_product(product_id=5001) is None


@pytest.mark.parametrize("product_id", [0, -1])
def test_an_id_no_row_can_have_is_not_asked_of_the_owner(fake_auth_backend, books, product_id):
    from catalog.selectors import get_product

    asked = []

    def owner(method, path, headers, body):
        asked.append(path)
        return 200, {"rows": [], "next_after": None}

    fake_auth_backend(owner, backend="catalog")
    set_ownership(domain="catalog", owner="catalog", state="active")

    assert get_product(product_id=product_id) is None
    assert asked == []
