"""Bad input gets a clear 4xx JSON answer, never a 5xx and never a partial write."""

from __future__ import annotations

import pytest

from tests.contract import shapes
from tests.contract.api import GOOD_CARD, PASSWORD, eventually

HUGE_ID = "9" * 25
ONE_MIB = 1024 * 1024
UNICODE_NAME = "Café ☕ 東京 🚀 Ωμέγα עברית"


@pytest.fixture
def targets(shop, admin, shopper, product):
    """(method, path, account) of every endpoint that reads a JSON body."""
    order = shop.checkout(shopper, {product["id"]: 1})
    return [
        ("POST", "/api/auth/register", None),
        ("POST", "/api/auth/token", None),
        ("POST", "/api/auth/token/refresh", None),
        ("POST", "/api/products", admin),
        ("PATCH", f"/api/products/{product['id']}", admin),
        ("POST", f"/api/products/{product['id']}/reviews", shopper),
        ("PUT", f"/api/cart/items/{product['id']}", shopper),
        ("POST", f"/api/orders/{order['id']}/pay", shopper),
    ]


def _send(shop, method, path, account, **kwargs):
    headers = dict(kwargs.pop("headers", {}))
    if account is not None:
        headers.update(account.auth)
    return shop.client.request(method, path, headers=headers, **kwargs)


def _raw(shop, method, path, account, content: bytes, content_type="application/json"):
    return _send(
        shop, method, path, account, content=content, headers={"Content-Type": content_type}
    )


def _assert_client_error(response):
    assert 400 <= response.status_code < 500, (
        f"{response.request.method} {response.request.url}: "
        f"{response.status_code} {response.text[:300]}"
    )
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body, dict) and body, body
    return body


# -- malformed bodies -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    [b'{"email": ', b"{'single': 'quotes'}", b"not json at all", b'{"a": 1,}', b"\xff\xfe{"],
    ids=["truncated", "single-quotes", "text", "trailing-comma", "invalid-utf8"],
)
def test_malformed_json_is_a_400_json_parse_error_on_every_endpoint(shop, targets, content):
    for method, path, account in targets:
        response = _raw(shop, method, path, account, content)

        body = shapes.error_detail(response, 400)
        assert body["detail"].startswith("JSON parse error - "), (method, path, body)


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"42", b"null", b"[{}]"])
def test_a_json_body_that_is_not_an_object_is_a_400(shop, targets, content):
    for method, path, account in targets:
        response = _raw(shop, method, path, account, content)

        assert response.status_code == 400, (method, path, response.status_code, response.text)
        _assert_client_error(response)


def test_deeply_nested_json_is_a_400_not_a_crash(shop, targets):
    content = b"[" * 100_000 + b"]" * 100_000

    for method, path, account in targets:
        response = _raw(shop, method, path, account, content)

        assert response.status_code == 400, (method, path, response.status_code, response.text)
        shapes.error_detail(response, 400)


def test_a_body_that_is_not_json_is_a_415(shop, targets):
    for method, path, account in targets:
        response = _raw(shop, method, path, account, b"email=a@b.c", "text/plain")

        shapes.error_detail(response, 415)


def test_a_body_over_one_mib_is_a_413_json_answer(shop, targets):
    content = b'{"name": "' + b"x" * ONE_MIB + b'"}'

    for method, path, account in targets:
        response = _raw(shop, method, path, account, content)

        shapes.error_detail(response, 413)


def test_a_chunked_body_over_one_mib_is_a_413_json_answer(shop):
    def chunks():
        yield b'{"email": "big@example.com", "password": "long-enough-1", "name": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = shop.client.post(
        "/api/auth/register", content=chunks(), headers={"Content-Type": "application/json"}
    )

    shapes.error_detail(response, 413)


# -- wrong types and out-of-range values ----------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", 123),
        ("email", ["a@b.c"]),
        ("name", {"first": "Ada"}),
        ("password", ["long-enough-1"]),
        ("email", "x" * 1000 + "@example.com"),
        ("name", "n" * 10_000),
        ("name", "nul\x00byte"),
        ("email", "nul\x00@example.com"),
    ],
)
def test_register_rejects_bad_field_values_and_creates_nobody(shop, field, value):
    email = shop.unique.email()
    body = {"email": email, "password": PASSWORD, "name": "Probe", field: value}

    shapes.field_errors(shop.post("/api/auth/register", json=body), field)
    if field != "email":
        retry = {"email": email, "password": PASSWORD, "name": "Probe"}
        shapes.json_body(shop.post("/api/auth/register", json=retry), 201)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", "1e20"),
        ("price", "99999999999999999999.99"),
        ("price", "1.999"),
        ("price", "NaN"),
        ("price", "Infinity"),
        ("price", []),
        ("stock", 10**20),
        ("stock", -(10**20)),
        ("stock", 1.5),
        ("stock", "1e3"),
        ("sku", "S" * 1000),
        ("sku", ""),
        ("name", "n" * 10_000),
        ("name", ""),
        ("name", "nul\x00byte"),
        ("description", "nul\x00byte"),
        ("category", 5),
        ("category", "nul\x00"),
    ],
)
def test_product_creation_rejects_bad_field_values_and_creates_nothing(shop, admin, field, value):
    token = shop.unique.token()
    sku = shop.unique.sku()
    body = {
        "sku": sku,
        "name": f"Probe {token}",
        "description": "",
        "price": "1.00",
        "category": shop.first_category(),
        "stock": 1,
        field: value,
    }

    shapes.field_errors(shop.post("/api/products", admin, json=body), field)
    assert shop.get("/api/products", params={"q": token}).json()["count"] == 0


def test_a_stock_beyond_32_bits_is_stored_or_refused_never_a_crash(shop, admin, product):
    response = shop.patch(f"/api/products/{product['id']}", admin, json={"stock": 2**31})

    if response.status_code == 200:
        assert shop.product(product["id"])["stock"] == 2**31
    else:
        shapes.field_errors(response, "stock")
        assert shop.product(product["id"]) == product


@pytest.mark.parametrize("quantity", [10**20, -(10**20), "1e2", [], {"n": 1}, True])
def test_cart_quantity_of_the_wrong_type_or_size_is_a_400(shop, customer, product, quantity):
    response = shop.put(f"/api/cart/items/{product['id']}", customer, json={"quantity": quantity})

    shapes.field_errors(response, "quantity")
    assert shop.cart(customer)["items"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rating", 10**20),
        ("title", "t" * 10_000),
        ("title", "nul\x00byte"),
        ("body", "nul\x00byte"),
        ("title", ["a"]),
    ],
)
def test_review_rejects_bad_field_values_and_stores_nothing(shop, shopper, product, field, value):
    body = {"rating": 3, "title": "Fine", "body": "Fine.", field: value}

    response = shop.post(f"/api/products/{product['id']}/reviews", shopper, json=body)

    shapes.field_errors(response, field)
    assert shop.get(f"/api/products/{product['id']}/reviews").json()["count"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("card_number", "4" * 1000),
        ("exp_month", 10**20),
        ("exp_year", 10**20),
        ("exp_year", -1),
        ("cvc", "1\x002"),
        ("card_number", "4242\x00424242424242"),
    ],
)
def test_pay_rejects_bad_card_values_and_charges_nothing(shop, shopper, product, field, value):
    order = shop.checkout(shopper, {product["id"]: 1})

    response = shop.pay(shopper, order["id"], {**GOOD_CARD, field: value})

    _assert_client_error(response)
    assert response.status_code == 400
    assert shop.order(shopper, order["id"]) == order


# -- unknown ids and odd paths -----------------------------------------------------------------
@pytest.mark.parametrize("product_id", [HUGE_ID, "-1", "0", "abc", "1.5", "%00"])
def test_odd_product_ids_are_a_404_json_answer(shop, shopper, product_id):
    for method, path, kwargs in [
        ("GET", f"/api/products/{product_id}", {}),
        ("GET", f"/api/products/{product_id}/reviews", {}),
        ("POST", f"/api/products/{product_id}/reviews", {"json": {"rating": 3}}),
        ("PUT", f"/api/cart/items/{product_id}", {"json": {"quantity": 1}}),
        ("DELETE", f"/api/cart/items/{product_id}", {}),
    ]:
        response = _send(shop, method, path, shopper, **kwargs)

        assert response.status_code == 404, (method, path, response.status_code, response.text)
        shapes.error_detail(response, 404)


@pytest.mark.parametrize("order_id", [HUGE_ID, "-1", "0", "abc"])
def test_odd_order_ids_are_a_404_json_answer(shop, shopper, order_id):
    for method, path, kwargs in [
        ("GET", f"/api/orders/{order_id}", {}),
        ("POST", f"/api/orders/{order_id}/cancel", {}),
        ("POST", f"/api/orders/{order_id}/pay", {"json": GOOD_CARD}),
    ]:
        response = _send(shop, method, path, shopper, **kwargs)

        shapes.error_detail(response, 404)


def test_huge_product_ids_are_a_404_for_staff_writes(shop, admin):
    shapes.error_detail(shop.patch(f"/api/products/{HUGE_ID}", admin, json={"stock": 1}), 404)
    shapes.error_detail(shop.delete(f"/api/products/{HUGE_ID}", admin), 404)


# -- query strings ----------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "nul\x00"])
def test_price_bounds_that_are_not_finite_numbers_are_a_400(shop, value):
    for param in ("min_price", "max_price"):
        shapes.field_errors(shop.get("/api/products", params={param: value}), param)


@pytest.mark.parametrize(
    "params",
    [
        {"min_price": "1e400"},
        {"max_price": "-1"},
        {"min_price": "9" * 100},
        {"q": "x" * 2000},
        {"q": "nul\x00byte"},
        {"q": "'; DROP TABLE catalog_product; --"},
        {"q": "%_%"},
        {"category": "nul\x00"},
        {"category": "c" * 2000},
        {"page_size": "abc"},
    ],
)
def test_odd_query_strings_are_answered_without_a_crash(shop, base_url, params):
    response = shop.get("/api/products", params=params)

    if response.status_code == 200:
        shapes.page(response.json(), base_url=base_url)
    else:
        _assert_client_error(response)
        assert response.status_code == 400


def test_a_huge_page_number_is_a_404_and_a_huge_page_size_a_400(shop):
    shapes.error_detail(shop.get("/api/products", params={"page": HUGE_ID}), 404)
    shapes.field_errors(shop.get("/api/products", params={"page_size": HUGE_ID}), "page_size")


# -- unicode survives ---------------------------------------------------------------------------
def test_unicode_round_trips_through_products_and_search(shop, base_url, make_product):
    token = shop.unique.token()
    created = make_product(name=f"{UNICODE_NAME} {token}", description="Ünïcödé ✓")

    page = shapes.page(
        shapes.json_body(shop.get("/api/products", params={"q": token}), 200), base_url=base_url
    )

    assert created["name"] == f"{UNICODE_NAME} {token}"
    assert page["results"] == [created]
    by_unicode = shop.get("/api/products", params={"q": f"עברית {token}"})
    assert shapes.json_body(by_unicode, 200)["results"] == [created]


def test_unicode_round_trips_through_accounts_and_reviews(shop, product):
    account = shop.register(name=UNICODE_NAME)
    review = {"rating": 5, "title": "Très bien 👍", "body": "لطيف جدا"}

    created = shapes.json_body(
        shop.post(f"/api/products/{product['id']}/reviews", account, json=review), 201
    )

    assert account.name == UNICODE_NAME
    assert created["user"]["name"] == UNICODE_NAME
    assert (created["title"], created["body"]) == (review["title"], review["body"])


# -- data that disappears -----------------------------------------------------------------------
def test_a_deleted_product_leaves_the_cart_and_checkout_usable(shop, admin, customer, product):
    shop.set_quantity(customer, product["id"], 1)

    shop.delete(f"/api/products/{product['id']}", admin)

    def emptied() -> bool:
        cart = shapes.cart(shapes.json_body(shop.get("/api/cart", customer), 200))
        return cart["items"] == []

    assert eventually(emptied)
    shapes.error_detail(shop.post("/api/orders", customer), 400, code="empty_cart")


# -- NUL characters never reach the database --------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/token", {"email": "nul\x00@example.com", "password": "whatever-1234"}),
        ("/api/auth/token", {"email": "someone@example.com", "password": "nul\x00byte"}),
        ("/api/auth/token/refresh", {"refresh": "nul\x00.token.value"}),
    ],
)
def test_nul_characters_in_credentials_are_refused_without_a_crash(shop, path, body):
    response = shop.post(path, json=body)

    assert response.status_code in {400, 401}, (response.status_code, response.text)
    _assert_client_error(response)


@pytest.mark.parametrize("param", ["ordering", "page", "page_size", "category", "q"])
def test_nul_characters_in_list_parameters_are_answered_without_a_crash(shop, base_url, param):
    response = shop.get("/api/products", params={param: "1\x00"})

    if response.status_code == 200:
        shapes.page(response.json(), base_url=base_url)
    else:
        _assert_client_error(response)
        assert response.status_code in {400, 404}, response.text
