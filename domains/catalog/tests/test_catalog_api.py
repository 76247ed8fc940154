from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def test_products_filter_by_category_search_and_price_range(api, make_product, books):
    from catalog.models import Category

    toys = Category.objects.create(slug="toys", name="Toys")
    make_product(name="Red kite", price=Decimal("5.00"), category=toys)
    make_product(name="Blue kite", price=Decimal("15.00"), category=toys)
    make_product(name="Novel", description="a kite on the cover", price=Decimal("25.00"))

    def ids(**params):
        return [p["name"] for p in api.get("/api/products", params).json()["results"]]

    assert ids(category="toys") == ["Red kite", "Blue kite"]
    assert ids(q="KITE") == ["Red kite", "Blue kite", "Novel"]
    assert ids(min_price="10", max_price="20") == ["Blue kite"]
    assert ids(ordering="-price") == ["Novel", "Blue kite", "Red kite"]
    assert ids(ordering="name") == ["Blue kite", "Novel", "Red kite"]
    assert ids(category="unknown") == []


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"ordering": "stock"}, "ordering"),
        ({"min_price": "ten"}, "min_price"),
        ({"max_price": "-1"}, "max_price"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(api, params, key):
    response = api.get("/api/products", params)
    assert response.status_code == 400
    assert key in response.json()


def test_page_beyond_the_last_is_404(api, make_product):
    make_product()
    assert api.get("/api/products", {"page": 2}).status_code == 404


def test_product_list_costs_the_same_queries_for_one_or_fifty_products(api, make_product):
    make_product()
    with CaptureQueriesContext(connection) as one:
        api.get("/api/products", {"page_size": 100})
    for _ in range(49):
        make_product()
    with CaptureQueriesContext(connection) as fifty:
        api.get("/api/products", {"page_size": 100})
    assert len(fifty) == len(one) <= 2


def test_product_detail_is_one_query(api, make_product):
    product = make_product()
    with CaptureQueriesContext(connection) as queries:
        assert api.get(f"/api/products/{product.pk}").status_code == 200
    assert len(queries) == 1


def test_only_staff_create_products(api, as_customer, as_staff, books):
    body = {"sku": "N-1", "name": "New", "price": "9.99", "category": "books", "stock": 3}
    assert api.post("/api/products", body, format="json").status_code == 401
    assert api.post("/api/products", body, format="json", **as_customer).status_code == 403
    created = api.post("/api/products", body, format="json", **as_staff)
    assert created.status_code == 201
    assert created.json()["price"] == "9.99"
    assert created.json()["category"] == "books"


def test_creating_a_product_validates_price_stock_sku_and_category(api, as_staff, make_product):
    make_product(sku="TAKEN")
    body = {"sku": "TAKEN", "name": "X", "price": "0", "category": "nope", "stock": -1}
    response = api.post("/api/products", body, format="json", **as_staff)
    assert response.status_code == 400
    assert set(response.json()) == {"sku", "price", "category", "stock"}


def test_patch_changes_only_given_fields_and_delete_removes(api, as_staff, make_product):
    product = make_product(name="Old")
    patched = api.patch(f"/api/products/{product.pk}", {"name": "New"}, format="json", **as_staff)
    assert patched.json()["name"] == "New"
    assert patched.json()["sku"] == product.sku
    assert api.delete(f"/api/products/{product.pk}", **as_staff).status_code == 204
    assert api.get(f"/api/products/{product.pk}").status_code == 404
    assert api.delete(f"/api/products/{product.pk}", **as_staff).status_code == 404


def test_an_id_too_large_for_the_database_is_a_404(api):
    assert api.get("/api/products/" + "9" * 30).status_code == 404


def test_a_category_slug_with_a_nul_byte_is_a_400_on_every_database(api, as_staff, books):
    body = {"sku": "N-0", "name": "X", "price": "1.00", "category": "bo\x00oks", "stock": 1}
    response = api.post("/api/products", body, format="json", **as_staff)
    assert response.status_code == 400
    assert "category" in response.json()
