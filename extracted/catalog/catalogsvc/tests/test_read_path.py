"""The catalog service's read path: catalog reads answered from a cache that every change of
the catalog invalidates (a write here as owner, an event applied here as a copy), with ETags,
and answers identical to the ones the domain's views give without it (as in the monolith)."""

import uuid

import pytest
from django.db import connection

from catalog.models import Product
from strangler.sync.consumer import Event, apply_events
from strangler.sync.models import AggregateVersion
from strangler.sync.ownership import set_ownership
from strangler.sync.states import EventOutcome

pytestmark = pytest.mark.django_db


def _change_behind_the_caches_back(product: Product, *, name: str) -> None:
    """A row changed without going through the domain (no event, no generation): only a
    cached answer can still show the old name."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET name = %s WHERE id = %s", [name, product.pk])


def _event_from_the_monolith(product: Product, **changes) -> Event:
    version = AggregateVersion.objects.get(aggregate_type="product", aggregate_id=str(product.pk))
    payload = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "price": str(product.price),
        "category": product.category_id,
        "stock": product.stock,
        "created_at": product.created_at.isoformat(),
        "updated_at": product.updated_at.isoformat(),
        **changes,
    }
    return Event(
        event_id=str(uuid.uuid4()),
        source="monolith",
        aggregate_type="product",
        aggregate_id=str(product.pk),
        version=version.version + 1,
        payload=payload,
        deleted=False,
    )


def test_a_read_is_answered_from_the_cache_while_the_catalog_does_not_change(api, make_product):
    lamp = make_product(name="Lamp")
    first = api.get(f"/api/products/{lamp.pk}")

    _change_behind_the_caches_back(lamp, name="Changed unseen")
    again = api.get(f"/api/products/{lamp.pk}")

    assert again.json()["name"] == "Lamp"
    assert again.content == first.content


def test_a_write_on_the_owner_is_read_at_once_from_any_process(api, make_product, as_staff):
    lamp = make_product(name="Lamp", stock=4)
    listed = api.get("/api/products")
    api.get(f"/api/products/{lamp.pk}")

    patched = api.patch(f"/api/products/{lamp.pk}", {"stock": 1}, format="json", **as_staff)

    assert patched.status_code == 200
    assert api.get(f"/api/products/{lamp.pk}").json()["stock"] == 1
    assert api.get("/api/products").json()["results"][0]["stock"] == 1
    assert listed.json()["results"][0]["stock"] == 4


def test_an_event_applied_to_the_copy_is_read_at_once(api, make_product):
    lamp = make_product(name="Lamp")
    set_ownership(domain="catalog", owner="monolith", state="active")
    assert api.get(f"/api/products/{lamp.pk}").json()["name"] == "Lamp"

    outcomes = apply_events([_event_from_the_monolith(lamp, name="Lamp, renamed upstream")])

    assert set(outcomes.values()) == {EventOutcome.APPLIED}
    assert api.get(f"/api/products/{lamp.pk}").json()["name"] == "Lamp, renamed upstream"


def test_a_stale_event_changes_nothing_and_keeps_the_cache(api, make_product):
    lamp = make_product(name="Lamp")
    set_ownership(domain="catalog", owner="monolith", state="active")
    etag = api.get(f"/api/products/{lamp.pk}")["ETag"]
    stale = _event_from_the_monolith(lamp, name="Older")
    stale = Event(**{**stale.__dict__, "version": stale.version - 1})

    assert set(apply_events([stale]).values()) == {EventOutcome.STALE}
    assert api.get(f"/api/products/{lamp.pk}")["ETag"] == etag


def test_a_read_names_its_etag_and_the_same_etag_is_answered_304_without_a_body(api, make_product):
    lamp = make_product()
    first = api.get(f"/api/products/{lamp.pk}")

    revalidated = api.get(f"/api/products/{lamp.pk}", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated["ETag"] == first["ETag"]


def test_a_weak_form_of_the_etag_also_matches(api, make_product):
    lamp = make_product()
    etag = api.get(f"/api/products/{lamp.pk}")["ETag"]

    assert api.get(f"/api/products/{lamp.pk}", HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304


def test_after_a_write_the_old_etag_gets_the_new_answer(api, make_product, as_staff):
    lamp = make_product(stock=4)
    old = api.get(f"/api/products/{lamp.pk}")["ETag"]
    api.patch(f"/api/products/{lamp.pk}", {"stock": 2}, format="json", **as_staff)

    answer = api.get(f"/api/products/{lamp.pk}", HTTP_IF_NONE_MATCH=old)

    assert answer.status_code == 200
    assert answer.json()["stock"] == 2
    assert answer["ETag"] != old


def test_etags_differ_between_requests_that_get_different_answers(api, make_product):
    lamp = make_product()
    make_product()

    etags = {
        api.get(path, **headers)["ETag"]
        for path, headers in [
            (f"/api/products/{lamp.pk}", {}),
            ("/api/products", {}),
            ("/api/products?page_size=1", {}),
            ("/api/products?page_size=1", {"HTTP_HOST": "shop.example"}),
            ("/api/products?page_size=1", {"HTTP_X_FORWARDED_PROTO": "https"}),
            ("/api/products?page_size=1", {"HTTP_ACCEPT": "application/json; indent=2"}),
        ]
    }

    assert len(etags) == 6


def test_pagination_links_follow_the_host_the_client_used(api, make_product):
    make_product()
    make_product()

    direct = api.get("/api/products?page_size=1", HTTP_HOST="catalog.internal").json()
    proxied = api.get(
        "/api/products?page_size=1",
        HTTP_HOST="catalog.internal",
        HTTP_X_FORWARDED_HOST="shop.example",
        HTTP_X_FORWARDED_PROTO="https",
    ).json()

    assert direct["next"] == "http://catalog.internal/api/products?page=2&page_size=1"
    assert proxied["next"] == "https://shop.example/api/products?page=2&page_size=1"


def test_an_accept_header_asking_for_indentation_gets_its_own_answer(api, make_product):
    lamp = make_product()
    api.get(f"/api/products/{lamp.pk}")

    indented = api.get(f"/api/products/{lamp.pk}", HTTP_ACCEPT="application/json; indent=2")

    assert indented.content.startswith(b"{\n")


def test_customers_and_staff_read_what_anonymous_clients_read(
    api, make_product, as_customer, as_staff
):
    lamp = make_product()
    anonymous = api.get(f"/api/products/{lamp.pk}")

    for headers in (as_customer, as_staff):
        answer = api.get(f"/api/products/{lamp.pk}", **headers)
        assert (answer.status_code, answer.content, answer["ETag"]) == (
            200,
            anonymous.content,
            anonymous["ETag"],
        )


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer", "Bearer a b"])
def test_a_refused_token_gets_its_401_even_where_the_answer_is_kept(api, make_product, header):
    lamp = make_product()
    etag = api.get(f"/api/products/{lamp.pk}")["ETag"]

    refused = api.get(f"/api/products/{lamp.pk}", HTTP_AUTHORIZATION=header)
    revalidated = api.get(
        f"/api/products/{lamp.pk}", HTTP_AUTHORIZATION=header, HTTP_IF_NONE_MATCH=etag
    )

    for answer in (refused, revalidated):
        assert answer.status_code == 401
        assert answer["WWW-Authenticate"] == "Bearer"
        assert "ETag" not in answer


def test_errors_are_not_kept_and_carry_no_etag(api, make_product):
    missing = api.get("/api/products/987654")
    bad_filter = api.get("/api/products?min_price=cheap")
    out_of_range = api.get("/api/products?page=9")

    for answer in (missing, bad_filter, out_of_range):
        assert answer.status_code in {400, 404}
        assert "ETag" not in answer


def test_a_product_created_after_a_404_is_read_at_once(api, books, as_staff):
    assert api.get("/api/products?category=books").json()["count"] == 0

    created = api.post(
        "/api/products",
        {"sku": "NEW-1", "name": "New", "price": "3.00", "category": "books", "stock": 1},
        format="json",
        **as_staff,
    )

    assert api.get(f"/api/products/{created.json()['id']}").status_code == 200
    assert api.get("/api/products?category=books").json()["count"] == 1
