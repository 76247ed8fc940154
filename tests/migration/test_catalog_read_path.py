"""The catalog service's read cache across real processes: gunicorn workers that each keep
answers in their own memory, and writes made in other processes (an owner's write, an event
applied as the sync consumers apply them). No worker may answer from before a write once the
write is done."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.live import CATALOG, LiveBackend

pytestmark = pytest.mark.integration

# Enough requests, each on a new connection, that every worker answers several.
READS = 24

SETUP = """
from catalog.models import Category, Product
from strangler.sync.ownership import set_ownership
set_ownership(domain="catalog", owner="catalog", state="active")
books = Category.objects.create(slug="books", name="Books")
Product.objects.create(id=1, sku="LAMP", name="Lamp", price="9.50", category=books, stock=5)
"""

OWNER_WRITE = """
from catalog import services
from catalog.models import Product
services.update_product(product=Product.objects.get(pk=1), changes={"stock": 7})
"""

# What a sync consumer does with an event of the monolith, the service being its copy.
APPLIED_EVENT = """
import uuid
from catalog.models import Product
from strangler.sync.consumer import Event, apply_events
from strangler.sync.models import AggregateVersion
from strangler.sync.ownership import set_ownership
set_ownership(domain="catalog", owner="monolith", state="active")
lamp = Product.objects.get(pk=1)
version = AggregateVersion.objects.get(aggregate_type="product", aggregate_id="1").version
payload = {
    "sku": lamp.sku, "name": lamp.name, "description": "", "price": "9.50",
    "category": lamp.category_id, "stock": 9, "created_at": lamp.created_at.isoformat(),
    "updated_at": lamp.updated_at.isoformat(),
}
outcomes = apply_events([Event(event_id=str(uuid.uuid4()), source="monolith",
    aggregate_type="product", aggregate_id="1", version=version + 1, payload=payload,
    deleted=False)])
assert set(outcomes.values()) == {"applied"}, outcomes
"""


@pytest.fixture(scope="module")
def catalog() -> Iterator[LiveBackend]:
    with LiveBackend(name="read_path", project=CATALOG, workers=3) as backend:
        backend.manage("shell", "-c", SETUP)
        yield backend


def _reads(backend: LiveBackend, path: str, **headers: str) -> list[httpx.Response]:
    # A connection per request: gunicorn hands each to whichever worker accepts it first.
    return [
        httpx.get(f"{backend.base_url}{path}", headers=headers, timeout=10) for _ in range(READS)
    ]


def _stocks(backend: LiveBackend) -> set[tuple[int, int]]:
    detail = {answer.json()["stock"] for answer in _reads(backend, "/api/products/1")}
    listed = {answer.json()["results"][0]["stock"] for answer in _reads(backend, "/api/products")}
    return {(d, listed_stock) for d in detail for listed_stock in listed}


def test_no_worker_answers_from_before_a_write_made_in_another_process(catalog):
    assert _stocks(catalog) == {(5, 5)}  # kept now, in every worker that answered

    catalog.manage("shell", "-c", OWNER_WRITE)
    after_write = _stocks(catalog)

    catalog.manage("shell", "-c", APPLIED_EVENT)
    after_event = _stocks(catalog)

    assert after_write == {(7, 7)}
    assert after_event == {(9, 9)}


def test_every_worker_answers_304_to_the_current_etag_and_200_to_an_old_one(catalog):
    etags = {answer.headers["ETag"] for answer in _reads(catalog, "/api/products/1")}
    (etag,) = etags

    revalidated = _reads(catalog, "/api/products/1", **{"If-None-Match": etag})
    stale = _reads(catalog, "/api/products/1", **{"If-None-Match": '"an-old-etag"'})

    assert {answer.status_code for answer in revalidated} == {304}
    assert {answer.status_code for answer in stale} == {200}
