"""Catalog: categories, product browsing (filters, search, ordering, pagination), staff CRUD."""

from __future__ import annotations

import pytest

from tests.contract import shapes

MISSING_ID = 2_000_000_000


def _page(shop, base_url, path, **params):
    return shapes.page(shapes.json_body(shop.get(path, params=params), 200), base_url=base_url)


def _ids(page):
    return [item["id"] for item in page["results"]]


@pytest.fixture
def tagged(shop, make_product):
    """Four products sharing a search token (prices and names chosen to order differently)."""
    token = shop.unique.token()
    categories = shop.categories()
    assert len(categories) >= 2, "seed_shop must create at least two categories"
    first, second = categories[0], categories[1]
    products = [
        make_product(name=f"Charlie {token}", price="5.00", category=first),
        make_product(name=f"Alpha {token}", price="20.00", category=second),
        make_product(name=f"Bravo {token}", price="10.00", category=first),
        make_product(
            name="Delta without the word",
            description=f"Only the description mentions {token}.",
            price="15.50",
            category=second,
        ),
    ]
    return token, products, (first, second)


# -- categories ---------------------------------------------------------------------------------
def test_categories_are_a_page_of_categories_sorted_by_name(shop, base_url):
    page = _page(shop, base_url, "/api/categories", page_size=100)

    assert page["count"] == len(page["results"]) >= 1
    for item in page["results"]:
        shapes.category(item)
    names = [item["name"] for item in page["results"]]
    assert names == sorted(names)


def test_categories_paginate_like_every_list(shop, base_url):
    page = _page(shop, base_url, "/api/categories", page_size=1)

    assert len(page["results"]) == 1
    assert page["previous"] is None
    assert (page["next"] is None) == (page["count"] == 1)


# -- product list -------------------------------------------------------------------------------
def test_product_list_defaults_to_twenty_products_ordered_by_id(shop, base_url):
    page = _page(shop, base_url, "/api/products")

    assert len(page["results"]) == min(20, page["count"])
    for item in page["results"]:
        shapes.product(item)
    ids = _ids(page)
    assert ids == sorted(ids)


def test_a_created_product_is_listed_and_readable_with_the_same_fields(shop, base_url, product):
    page = _page(shop, base_url, "/api/products", q=product["name"].split()[-1])
    detail = shapes.product(shapes.json_body(shop.get(f"/api/products/{product['id']}"), 200))

    assert page["results"] == [product]
    assert detail == product


def test_search_matches_name_or_description(shop, base_url, tagged):
    token, products, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token)

    assert page["count"] == 4
    assert _ids(page) == sorted(p["id"] for p in products)


def test_search_ignores_case(shop, base_url, tagged):
    token, products, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token.upper())

    assert _ids(page) == sorted(p["id"] for p in products)


def test_search_without_matches_is_an_empty_page(shop, base_url):
    page = _page(shop, base_url, "/api/products", q=shop.unique.token("nomatch"))

    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_category_filter_keeps_only_that_category(shop, base_url, tagged):
    token, products, (first, _) = tagged

    page = _page(shop, base_url, "/api/products", q=token, category=first)

    assert _ids(page) == sorted(p["id"] for p in products if p["category"] == first)
    assert {item["category"] for item in page["results"]} == {first}


def test_an_unknown_category_is_an_empty_page(shop, base_url):
    page = _page(shop, base_url, "/api/products", category=shop.unique.token("nocat"))

    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_min_price_is_inclusive(shop, base_url, tagged):
    token, _, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token, min_price="10.00")

    assert sorted(item["price"] for item in page["results"]) == ["10.00", "15.50", "20.00"]


def test_max_price_is_inclusive(shop, base_url, tagged):
    token, _, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token, max_price="10")

    assert sorted(item["price"] for item in page["results"]) == ["10.00", "5.00"]


def test_min_and_max_price_together_bound_the_price(shop, base_url, tagged):
    token, _, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token, min_price="5.01", max_price="19.99")

    assert sorted(item["price"] for item in page["results"]) == ["10.00", "15.50"]


@pytest.mark.parametrize("param", ["min_price", "max_price"])
@pytest.mark.parametrize("value", ["abc", "1,5", "ten"])
def test_a_non_numeric_price_bound_is_a_400_naming_the_parameter(shop, param, value):
    response = shop.get("/api/products", params={param: value})

    shapes.field_errors(response, param)


@pytest.mark.parametrize(
    ("ordering", "expected_names"),
    [
        ("price", ["Charlie", "Bravo", "Delta", "Alpha"]),
        ("-price", ["Alpha", "Delta", "Bravo", "Charlie"]),
        ("name", ["Alpha", "Bravo", "Charlie", "Delta"]),
        ("-name", ["Delta", "Charlie", "Bravo", "Alpha"]),
    ],
)
def test_ordering_sorts_by_the_requested_field(shop, base_url, tagged, ordering, expected_names):
    token, _, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token, ordering=ordering)

    assert [item["name"].split()[0] for item in page["results"]] == expected_names


def test_default_ordering_is_by_id(shop, base_url, tagged):
    token, products, _ = tagged

    page = _page(shop, base_url, "/api/products", q=token)

    assert _ids(page) == sorted(p["id"] for p in products)


@pytest.mark.parametrize("ordering", ["stock", "bogus", "-id;drop", "description"])
def test_an_unsupported_ordering_is_a_400_naming_the_parameter(shop, ordering):
    response = shop.get("/api/products", params={"ordering": ordering})

    shapes.field_errors(response, "ordering")


# -- pagination ---------------------------------------------------------------------------------
def test_pages_link_to_each_other_with_absolute_urls_that_keep_the_filters(shop, base_url, tagged):
    token, products, _ = tagged
    expected = sorted(p["id"] for p in products)

    first = _page(shop, base_url, "/api/products", q=token, page_size=3)
    assert first["count"] == 4 and first["previous"] is None and first["next"]
    second = shapes.page(shapes.json_body(shop.client.get(first["next"]), 200), base_url=base_url)
    assert second["next"] is None and second["previous"]
    back = shapes.page(
        shapes.json_body(shop.client.get(second["previous"]), 200), base_url=base_url
    )

    assert _ids(first) + _ids(second) == expected
    assert back == first


def test_page_size_of_one_hundred_is_allowed(shop, base_url):
    page = _page(shop, base_url, "/api/products", page_size=100)

    assert len(page["results"]) == min(100, page["count"])


@pytest.mark.parametrize("page_size", ["101", "1000", "0", "-1"])
def test_page_size_out_of_bounds_is_a_400_naming_the_parameter(shop, page_size):
    response = shop.get("/api/products", params={"page_size": page_size})

    shapes.field_errors(response, "page_size")


def test_a_page_beyond_the_last_is_a_404(shop, tagged):
    token, _, _ = tagged

    response = shop.get("/api/products", params={"q": token, "page_size": 2, "page": 3})

    shapes.error_detail(response, 404)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999"])
def test_an_invalid_page_number_is_a_404(shop, page):
    response = shop.get("/api/products", params={"page": page})

    shapes.error_detail(response, 404)


def test_the_first_page_of_an_empty_list_exists_but_the_second_does_not(shop, base_url):
    empty = shop.unique.token("empty")

    _page(shop, base_url, "/api/products", q=empty, page=1)
    shapes.error_detail(shop.get("/api/products", params={"q": empty, "page": 2}), 404)


# -- product detail -----------------------------------------------------------------------------
def test_an_unknown_product_is_a_404(shop):
    shapes.error_detail(shop.get(f"/api/products/{MISSING_ID}"), 404)


# -- staff writes: create -----------------------------------------------------------------------
def test_staff_creates_a_product_and_gets_it_back(shop, admin):
    sku = shop.unique.sku()
    category = shop.first_category()
    sent = {
        "sku": sku,
        "name": "Brass lamp",
        "description": "Warm light.",
        "price": "12.5",
        "category": category,
        "stock": 7,
    }

    created = shapes.product(shapes.json_body(shop.post("/api/products", admin, json=sent), 201))

    assert {k: created[k] for k in sent} == {**sent, "price": "12.50"}


def test_creating_a_product_needs_a_token(shop):
    shapes.unauthorized(shop.post("/api/products", json={"sku": shop.unique.sku()}))


def test_creating_a_product_is_forbidden_to_customers(shop, customer):
    body = {
        "sku": shop.unique.sku(),
        "name": "Not allowed",
        "description": "",
        "price": "1.00",
        "category": shop.first_category(),
        "stock": 1,
    }

    shapes.error_detail(shop.post("/api/products", customer, json=body), 403)


def test_a_duplicate_sku_is_rejected(shop, admin, product):
    body = {
        "sku": product["sku"],
        "name": "Copy",
        "description": "",
        "price": "1.00",
        "category": product["category"],
        "stock": 1,
    }

    shapes.field_errors(shop.post("/api/products", admin, json=body), "sku")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "0"),
        ("price", "0.00"),
        ("price", "-1.00"),
        ("price", "abc"),
        ("stock", -1),
        ("stock", "many"),
        ("category", "no-such-category-slug"),
    ],
)
def test_an_invalid_product_field_is_a_400_naming_it(shop, admin, field, value):
    body = {
        "sku": shop.unique.sku(),
        "name": "Invalid",
        "description": "",
        "price": "1.00",
        "category": shop.first_category(),
        "stock": 1,
        field: value,
    }

    shapes.field_errors(shop.post("/api/products", admin, json=body), field)


def test_creating_a_product_names_the_missing_required_fields(shop, admin):
    shapes.field_errors(shop.post("/api/products", admin, json={}), "sku", "name", "price")


# -- staff writes: update -----------------------------------------------------------------------
def test_staff_patches_a_subset_and_the_rest_stays(shop, admin, product):
    response = shop.patch(
        f"/api/products/{product['id']}", admin, json={"price": "11.25", "stock": 3}
    )

    updated = shapes.product(shapes.json_body(response, 200))
    assert updated == {
        **product,
        "price": "11.25",
        "stock": 3,
        "updated_at": updated["updated_at"],
    }
    assert shapes.timestamp(updated["updated_at"]) >= shapes.timestamp(product["updated_at"])
    assert shop.product(product["id"]) == updated


def test_patch_needs_a_token(shop, product):
    shapes.unauthorized(shop.patch(f"/api/products/{product['id']}", json={"stock": 1}))


def test_patch_is_forbidden_to_customers(shop, customer, product):
    response = shop.patch(f"/api/products/{product['id']}", customer, json={"stock": 0})

    shapes.error_detail(response, 403)
    assert shop.product(product["id"])["stock"] == product["stock"]


def test_patching_an_unknown_product_is_a_404(shop, admin):
    shapes.error_detail(shop.patch(f"/api/products/{MISSING_ID}", admin, json={"stock": 1}), 404)


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "0"), ("price", "-5"), ("stock", -3), ("category", "no-such-category-slug")],
)
def test_an_invalid_patch_changes_nothing(shop, admin, product, field, value):
    response = shop.patch(
        f"/api/products/{product['id']}", admin, json={"name": "Renamed", field: value}
    )

    shapes.field_errors(response, field)
    assert shop.product(product["id"]) == product


def test_patching_to_another_products_sku_is_rejected(shop, admin, make_product):
    first, second = make_product(), make_product()

    response = shop.patch(f"/api/products/{second['id']}", admin, json={"sku": first["sku"]})

    shapes.field_errors(response, "sku")


# -- staff writes: delete -----------------------------------------------------------------------
def test_staff_deletes_a_product_which_then_is_gone(shop, admin, product):
    response = shop.delete(f"/api/products/{product['id']}", admin)

    assert response.status_code == 204, response.text
    assert response.content == b""
    shapes.error_detail(shop.get(f"/api/products/{product['id']}"), 404)
    shapes.error_detail(shop.delete(f"/api/products/{product['id']}", admin), 404)


def test_delete_needs_a_token(shop, product):
    shapes.unauthorized(shop.delete(f"/api/products/{product['id']}"))
    assert shop.product(product["id"]) == product


def test_delete_is_forbidden_to_customers(shop, customer, product):
    shapes.error_detail(shop.delete(f"/api/products/{product['id']}", customer), 403)
    assert shop.product(product["id"]) == product


def test_deleting_an_unknown_product_is_a_404(shop, admin):
    shapes.error_detail(shop.delete(f"/api/products/{MISSING_ID}", admin), 404)
