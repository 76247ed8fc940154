"""The catalog service's own faster read of one product, in front of the domain's view.

A plain GET of /api/products/{id} (no credentials, no query string, an Accept that any JSON
answer satisfies), the bulk of a shop's traffic, is answered from one SQL statement, shaped by
the domain's own serializer (one instance per process: building its fields is most of what a
serializer costs per request) and rendered by the API's JSON renderer, with the headers the
domain's view sends. Everything else (credentials to check, content negotiation, a product
this copy does not hold, which the domain's view reads through from the owner, the writes) is
the domain's view, as in the monolith. The read cache (strangler.service.read_cache) keeps
either answer alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib import import_module

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern
from rest_framework.renderers import JSONRenderer

from catalog.models import Category, Product
from catalog.serializers import ProductSerializer
from catalog.views import ProductDetailView

# What DRF's content negotiation answers with the plain JSON renderer, unasked for indentation.
PLAIN_ACCEPTS = frozenset({"", "*/*", "application/json"})
REPRESENTATION = ProductSerializer()
RENDERER = JSONRenderer()


def _view_headers() -> dict[str, str]:
    """The headers DRF adds to the view's answers (Allow; Vary if it had several renderers),
    from a view set up as for a request (which is when Django lets it answer HEAD)."""
    view = ProductDetailView()
    view.setup(HttpRequest())
    return {"Content-Type": RENDERER.media_type, **view.default_response_headers}


HEADERS = _view_headers()
_PRODUCT, _CATEGORY = Product._meta, Category._meta
# What the representation reads of a product (ProductSerializer's fields), and its category's slug.
PRODUCT_SQL = (
    "SELECT p.id, p.sku, p.name, p.description, p.price, p.stock, p.updated_at, c.slug "
    f"FROM {_PRODUCT.db_table} p JOIN {_CATEGORY.db_table} c ON c.id = p.category_id "
    "WHERE p.id = %s"
)

View = Callable[..., HttpResponseBase]


def is_plain_read(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and not request.META.get("QUERY_STRING")
        and "HTTP_AUTHORIZATION" not in request.META
        and request.META.get("HTTP_ACCEPT", "").strip() in PLAIN_ACCEPTS
    )


@dataclass(frozen=True, slots=True)
class HeldProduct:
    """A product as its representation reads it: the serializer takes any object with the
    model's attributes, and building two model instances would cost more than the query."""

    id: int
    sku: str
    name: str
    description: str
    price: Decimal | float  # SQLite hands decimals back as numbers; the serializer quantizes
    stock: int
    updated_at: datetime
    category: CategorySlug


@dataclass(frozen=True, slots=True)
class CategorySlug:
    slug: str


def held_product(product_id: int) -> HeldProduct | None:
    """The product and its category's slug in one statement (compiling the ORM's query costs
    more than running it); None if this database does not hold it."""
    with connection.cursor() as cursor:
        cursor.execute(PRODUCT_SQL, [product_id])
        row = cursor.fetchone()
    if row is None:
        return None
    *fields, slug = row
    return HeldProduct(*fields, category=CategorySlug(slug))


def faster_product_reads(view: View) -> View:
    @functools.wraps(view)  # keeps what the view declares (csrf_exempt, its class for the schema)
    def read(request: HttpRequest, product_id: int) -> HttpResponseBase:
        product = held_product(product_id) if is_plain_read(request) else None
        if product is None:
            return view(request, product_id=product_id)
        body = RENDERER.render(REPRESENTATION.to_representation(product))
        return HttpResponse(body, headers=HEADERS)

    return read


def with_faster_product_reads(urlconf: str) -> list[URLPattern]:
    """The routes of the domain's `urlconf`, its product detail's view in front of the faster
    read (the route itself, its name and converter, unchanged)."""
    return [
        URLPattern(p.pattern, faster_product_reads(p.callback), p.default_args, p.name)
        if p.name == "product-detail"
        else p
        for p in import_module(urlconf).urlpatterns
    ]
