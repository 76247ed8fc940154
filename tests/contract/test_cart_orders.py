"""Cart, checkout, orders and cancel (shop-api.md, domain `orders`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.contract import shapes
from tests.contract.api import eventually
from tests.contract.test_catalog import MISSING_ID

EMPTY_CART = {"items": [], "item_count": 0, "total": "0.00"}


def _line(product, quantity):
    unit = Decimal(product["price"])
    return {
        "product_id": product["id"],
        "sku": product["sku"],
        "name": product["name"],
        "unit_price": product["price"],
        "quantity": quantity,
        "line_total": f"{unit * quantity:.2f}",
    }


# -- cart -------------------------------------------------------------------------------------
def test_a_new_customer_has_an_empty_cart(shop, customer):
    assert shapes.cart(shapes.json_body(shop.get("/api/cart", customer), 200)) == EMPTY_CART


def test_putting_items_fills_the_cart_with_current_prices_and_totals(shop, customer, make_product):
    lamp = make_product(price="19.99")
    mug = make_product(price="4.50")

    shop.set_quantity(customer, lamp["id"], 2)
    response = shop.put(f"/api/cart/items/{mug['id']}", customer, json={"quantity": 3})

    cart = shapes.cart(shapes.json_body(response, 200))
    assert cart == {
        "items": [_line(lamp, 2), _line(mug, 3)],
        "item_count": 5,
        "total": "53.48",
    }
    assert shop.cart(customer) == cart


def test_putting_an_item_again_sets_its_quantity(shop, customer, product):
    shop.set_quantity(customer, product["id"], 4)

    cart = shop.set_quantity(customer, product["id"], 1)

    assert cart["items"] == [_line(product, 1)]
    assert cart["item_count"] == 1


def test_quantity_zero_removes_the_item(shop, customer, product):
    shop.set_quantity(customer, product["id"], 2)

    cart = shop.set_quantity(customer, product["id"], 0)

    assert cart == EMPTY_CART


def test_quantity_one_hundred_is_the_maximum(shop, customer, product):
    cart = shop.set_quantity(customer, product["id"], 100)

    assert cart["item_count"] == 100


@pytest.mark.parametrize("quantity", [-1, 101, 1000, "abc", None, 1.5])
def test_a_quantity_outside_zero_to_one_hundred_is_a_400(shop, customer, product, quantity):
    shop.set_quantity(customer, product["id"], 2)

    response = shop.put(f"/api/cart/items/{product['id']}", customer, json={"quantity": quantity})

    shapes.field_errors(response, "quantity")
    assert shop.cart(customer)["items"] == [_line(product, 2)]


def test_putting_without_a_quantity_names_the_field(shop, customer, product):
    response = shop.put(f"/api/cart/items/{product['id']}", customer, json={})

    shapes.field_errors(response, "quantity")


def test_putting_an_unknown_product_is_a_404(shop, customer):
    response = shop.put(f"/api/cart/items/{MISSING_ID}", customer, json={"quantity": 1})

    shapes.error_detail(response, 404)
    assert shop.cart(customer) == EMPTY_CART


def test_deleting_an_item_removes_only_that_item(shop, customer, make_product):
    keep, drop = make_product(), make_product()
    shop.set_quantity(customer, keep["id"], 1)
    shop.set_quantity(customer, drop["id"], 2)

    response = shop.delete(f"/api/cart/items/{drop['id']}", customer)

    assert shapes.cart(shapes.json_body(response, 200))["items"] == [_line(keep, 1)]


def test_deleting_an_item_that_is_not_in_the_cart_is_a_404(shop, customer, product):
    shapes.error_detail(shop.delete(f"/api/cart/items/{product['id']}", customer), 404)
    shapes.error_detail(shop.delete(f"/api/cart/items/{MISSING_ID}", customer), 404)


def test_the_cart_shows_the_current_catalog_price(shop, admin, customer, product):
    shop.set_quantity(customer, product["id"], 2)

    shop.patch(f"/api/products/{product['id']}", admin, json={"price": "7.25"})

    def repriced() -> dict | None:
        cart = shop.cart(customer)
        return cart if cart["total"] == "14.50" else None

    assert eventually(repriced), shop.cart(customer)
    assert shop.cart(customer)["items"] == [_line({**product, "price": "7.25"}, 2)]


def test_each_customer_has_their_own_cart(shop, make_customer, product):
    first, second = make_customer(), make_customer()

    shop.set_quantity(first, product["id"], 1)

    assert shop.cart(second) == EMPTY_CART


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/cart"),
        ("PUT", "/api/cart/items/1"),
        ("DELETE", "/api/cart/items/1"),
    ],
)
def test_the_cart_needs_a_token(shop, method, path):
    response = shop.client.request(method, path, json={"quantity": 1} if method == "PUT" else None)

    shapes.unauthorized(response)


# -- checkout ---------------------------------------------------------------------------------
def test_checkout_creates_a_pending_order_empties_the_cart_and_reserves_stock(
    shop, customer, make_product
):
    lamp = make_product(price="19.99", stock=5)
    mug = make_product(price="4.50", stock=3)
    shop.set_quantity(customer, lamp["id"], 2)
    shop.set_quantity(customer, mug["id"], 3)

    response = shop.post("/api/orders", customer)

    order = shapes.order(shapes.json_body(response, 201))
    assert order["status"] == "pending_payment"
    assert order["paid_at"] is None
    assert order["items"] == [_line(lamp, 2), _line(mug, 3)]
    assert order["total"] == "53.48"
    assert shop.cart(customer) == EMPTY_CART
    assert shop.product(lamp["id"])["stock"] == 3
    assert shop.product(mug["id"])["stock"] == 0
    assert shop.order(customer, order["id"]) == order


def test_order_prices_are_frozen_at_checkout(shop, admin, customer, product):
    order = shop.checkout(customer, {product["id"]: 2})

    shop.patch(f"/api/products/{product['id']}", admin, json={"price": "99.99"})

    assert shop.order(customer, order["id"])["items"] == [_line(product, 2)]


def test_checking_out_an_empty_cart_is_a_400_empty_cart(shop, customer):
    shapes.error_detail(shop.post("/api/orders", customer), 400, code="empty_cart")


def test_checkout_beyond_stock_is_a_409_that_reserves_nothing_and_keeps_the_cart(
    shop, customer, make_product
):
    plenty = make_product(stock=5)
    scarce = make_product(stock=1)
    shop.set_quantity(customer, plenty["id"], 2)
    cart = shop.set_quantity(customer, scarce["id"], 2)

    response = shop.post("/api/orders", customer)

    body = shapes.error_detail(response, 409, code="out_of_stock")
    assert body["product_id"] == scarce["id"]
    assert shop.product(plenty["id"])["stock"] == 5
    assert shop.product(scarce["id"])["stock"] == 1
    assert shop.cart(customer) == cart
    orders = shop.get("/api/orders", customer).json()
    assert orders["count"] == 0


def test_checkout_of_exactly_the_remaining_stock_succeeds(shop, customer, make_product):
    product = make_product(stock=2)

    shop.checkout(customer, {product["id"]: 2})

    assert shop.product(product["id"])["stock"] == 0


def test_checkout_needs_a_token(shop):
    shapes.unauthorized(shop.post("/api/orders"))


# -- order list and detail ----------------------------------------------------------------------
def test_orders_are_listed_newest_first_and_only_to_their_owner(
    shop, base_url, make_customer, product
):
    owner, other = make_customer(), make_customer()
    older = shop.checkout(owner, {product["id"]: 1})
    newer = shop.checkout(owner, {product["id"]: 1})
    shop.checkout(other, {product["id"]: 1})

    page = shapes.page(shapes.json_body(shop.get("/api/orders", owner), 200), base_url=base_url)

    assert page["count"] == 2
    assert [order["id"] for order in page["results"]] == [newer["id"], older["id"]]
    assert page["results"] == [newer, older]


def test_orders_paginate(shop, base_url, customer, product):
    for _ in range(3):
        shop.checkout(customer, {product["id"]: 1})

    response = shop.get("/api/orders", customer, params={"page_size": 2})

    page = shapes.page(shapes.json_body(response, 200), base_url=base_url)
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


def test_another_users_order_is_a_404_not_a_403(shop, make_customer, product):
    owner, other = make_customer(), make_customer()
    order = shop.checkout(owner, {product["id"]: 1})

    shapes.error_detail(shop.get(f"/api/orders/{order['id']}", other), 404)
    shapes.error_detail(shop.post(f"/api/orders/{order['id']}/cancel", other), 404)
    assert shop.order(owner, order["id"])["status"] == "pending_payment"


def test_an_unknown_order_is_a_404(shop, customer):
    shapes.error_detail(shop.get(f"/api/orders/{MISSING_ID}", customer), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/orders"), ("GET", "/api/orders/1"), ("POST", "/api/orders/1/cancel")],
)
def test_orders_need_a_token(shop, method, path):
    shapes.unauthorized(shop.client.request(method, path))


# -- cancel -----------------------------------------------------------------------------------
def test_cancel_marks_the_order_cancelled_and_restores_stock(shop, customer, make_product):
    product = make_product(stock=4)
    order = shop.checkout(customer, {product["id"]: 3})

    response = shop.post(f"/api/orders/{order['id']}/cancel", customer)

    cancelled = shapes.order(shapes.json_body(response, 200))
    assert cancelled == {**order, "status": "cancelled"}
    assert shop.product(product["id"])["stock"] == 4
    assert shop.order(customer, order["id"]) == cancelled


def test_cancelling_twice_is_a_409_not_cancellable_and_restores_stock_once(
    shop, customer, make_product
):
    product = make_product(stock=4)
    order = shop.checkout(customer, {product["id"]: 3})
    shop.post(f"/api/orders/{order['id']}/cancel", customer)

    again = shop.post(f"/api/orders/{order['id']}/cancel", customer)

    shapes.error_detail(again, 409, code="not_cancellable")
    assert shop.product(product["id"])["stock"] == 4


def test_a_paid_order_is_not_cancellable(shop, customer, make_product):
    product = make_product(stock=4)
    order = shop.checkout(customer, {product["id"]: 1})
    shapes.json_body(shop.pay(customer, order["id"]), 200)

    response = shop.post(f"/api/orders/{order['id']}/cancel", customer)

    shapes.error_detail(response, 409, code="not_cancellable")
    assert shop.order(customer, order["id"])["status"] == "paid"
    assert shop.product(product["id"])["stock"] == 3


def test_cancelling_an_unknown_order_is_a_404(shop, customer):
    shapes.error_detail(shop.post(f"/api/orders/{MISSING_ID}/cancel", customer), 404)


def test_deleting_an_ordered_product_leaves_the_order_intact(shop, admin, customer, product):
    order = shop.checkout(customer, {product["id"]: 1})

    response = shop.delete(f"/api/products/{product['id']}", admin)

    assert response.status_code == 204, response.text
    assert shop.order(customer, order["id"]) == order
