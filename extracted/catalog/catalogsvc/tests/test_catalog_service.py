"""The catalog service as clients and the other backends see it: the catalog part of the
contract, its staff writes on the synced copy of the users, the internal reservation API, and
nothing of the other domains."""

import pytest

from catalog.models import Product

pytestmark = pytest.mark.django_db


def test_products_are_listed_with_the_contracts_shape(api, make_product):
    product = make_product(name="Lamp", price="12.50", stock=4)

    page = api.get("/api/products").json()

    assert page["count"] == 1
    assert page["results"][0] == {
        "id": product.pk,
        "sku": product.sku,
        "name": "Lamp",
        "description": "",
        "price": "12.50",
        "category": "books",
        "stock": 4,
        "updated_at": page["results"][0]["updated_at"],
    }


def test_staff_create_products_and_customers_may_not(api, books, as_staff, as_customer):
    body = {"sku": "S-1", "name": "Kettle", "price": "20.00", "category": "books", "stock": 3}

    refused = api.post("/api/products", body, format="json", **as_customer)
    created = api.post("/api/products", body, format="json", **as_staff)

    assert refused.status_code == 403
    assert created.status_code == 201
    assert Product.objects.get(sku="S-1").name == "Kettle"


def test_categories_and_product_detail_are_served(api, make_product):
    product = make_product()

    assert api.get("/api/categories").json()["results"][0]["slug"] == "books"
    assert api.get(f"/api/products/{product.pk}").json()["id"] == product.pk
    assert api.get("/api/products/999999").status_code == 404


def test_stock_is_reserved_through_the_internal_api(api, internal_headers, make_product):
    lamp = make_product(stock=2)

    answer = api.put(
        "/internal/catalog/reservations/checkout-1",
        {"lines": {str(lamp.pk): 2}},
        format="json",
        **internal_headers,
    )

    assert answer.status_code == 200
    assert Product.objects.get(pk=lamp.pk).stock == 0


@pytest.mark.parametrize(
    "path", ["/api/auth/me", "/api/cart", "/api/orders", "/api/products/1/reviews"]
)
def test_paths_of_other_domains_are_not_served_here(api, path):
    assert api.get(path).status_code == 404


def test_health_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}
