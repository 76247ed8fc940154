"""Copied rows keep their owner's values as they are, timestamps included."""

import pytest

from strangler.sync import registry
from strangler.sync.upsert import upsert_rows

pytestmark = pytest.mark.django_db


def test_a_copy_keeps_the_owners_auto_timestamps_and_json(books):
    from catalog.models import Product, StockReservation

    product = {
        "sku": "S-1",
        "name": "Lamp",
        "description": "",
        "price": "12.50",
        "category": books.pk,
        "stock": 3,
        "created_at": "2026-01-02T03:04:05.123456Z",
        "updated_at": "2026-02-03T04:05:06.654321Z",
    }
    upsert_rows(registry.by_name("product"), [{"id": 41, "payload": product}])
    upsert_rows(registry.by_name("product"), [{"id": 41, "payload": {**product, "stock": 2}}])
    reservation = {
        "key": "k1",
        "lines": {"41": 1},
        "state": "held",
        "created_at": "2026-02-03T04:05:06Z",
        "released_at": None,
    }
    upsert_rows(registry.by_name("stock_reservation"), [{"id": 7, "payload": reservation}])

    copied = Product.objects.get(pk=41)
    assert copied.stock == 2
    assert registry.by_name("product").payload(copied) == {**product, "stock": 2}
    assert StockReservation.objects.get(pk=7).lines == {"41": 1}
    # The payload predates the reservation's `priced` field: the copy takes its default.
    assert StockReservation.objects.get(pk=7).priced == {}
