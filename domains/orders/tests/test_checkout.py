import pytest

from catalog.models import Product
from orders.models import CartItem, Order

pytestmark = pytest.mark.django_db


def _put(api, headers, product_id, quantity):
    return api.put(
        f"/api/cart/items/{product_id}", {"quantity": quantity}, format="json", **headers
    )


def test_cart_prices_lines_at_the_current_catalog_price(api, as_customer, make_product):
    product = make_product(price="2.50")
    _put(api, as_customer, product.pk, 3)
    product.price = "3.00"
    product.save()
    cart = api.get("/api/cart", **as_customer).json()
    assert cart == {
        "items": [
            {
                "product_id": product.pk,
                "sku": product.sku,
                "name": product.name,
                "unit_price": "3.00",
                "quantity": 3,
                "line_total": "9.00",
            }
        ],
        "item_count": 3,
        "total": "9.00",
    }


@pytest.mark.parametrize("quantity", [-1, 101, "many", None])
def test_cart_quantity_outside_zero_to_hundred_is_400(api, as_customer, make_product, quantity):
    assert _put(api, as_customer, make_product().pk, quantity).status_code == 400


def test_quantity_zero_removes_the_line_and_delete_of_a_missing_line_is_404(
    api, as_customer, make_product
):
    product = make_product()
    _put(api, as_customer, product.pk, 2)
    assert _put(api, as_customer, product.pk, 0).json()["items"] == []
    assert api.delete(f"/api/cart/items/{product.pk}", **as_customer).status_code == 404


def test_checkout_freezes_prices_reserves_stock_and_empties_the_cart(
    api, as_customer, make_product
):
    product = make_product(price="4.00", stock=5)
    _put(api, as_customer, product.pk, 2)
    response = api.post("/api/orders", **as_customer)
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "pending_payment"
    assert order["total"] == "8.00"
    assert order["paid_at"] is None
    assert Product.objects.get(pk=product.pk).stock == 3
    assert api.get("/api/cart", **as_customer).json()["items"] == []


def test_checkout_out_of_stock_reserves_nothing_and_keeps_the_cart(api, as_customer, make_product):
    plenty = make_product(stock=10)
    scarce = make_product(stock=1)
    _put(api, as_customer, plenty.pk, 3)
    _put(api, as_customer, scarce.pk, 2)
    response = api.post("/api/orders", **as_customer)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Not enough stock for a product in your cart.",
        "code": "out_of_stock",
        "product_id": scarce.pk,
    }
    assert Product.objects.get(pk=plenty.pk).stock == 10
    assert CartItem.objects.count() == 2
    assert Order.objects.count() == 0


def test_checkout_of_an_empty_cart_is_400_empty_cart(api, as_customer):
    response = api.post("/api/orders", **as_customer)
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"


def test_cancel_restores_stock_once(api, as_customer, make_product):
    product = make_product(stock=5)
    _put(api, as_customer, product.pk, 2)
    order_id = api.post("/api/orders", **as_customer).json()["id"]
    cancelled = api.post(f"/api/orders/{order_id}/cancel", **as_customer)
    assert cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/orders/{order_id}/cancel", **as_customer)
    assert again.status_code == 409
    assert again.json()["code"] == "not_cancellable"
    assert Product.objects.get(pk=product.pk).stock == 5


def test_another_users_order_is_404_not_403(api, as_customer, as_other_customer, make_product):
    _put(api, as_customer, make_product().pk, 1)
    order_id = api.post("/api/orders", **as_customer).json()["id"]
    assert api.get(f"/api/orders/{order_id}", **as_other_customer).status_code == 404
    assert api.post(f"/api/orders/{order_id}/cancel", **as_other_customer).status_code == 404
    assert api.get("/api/orders", **as_other_customer).json()["count"] == 0


def test_order_list_is_newest_first_with_a_fixed_number_of_queries(api, as_customer, make_product):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    product = make_product(stock=50)
    for _ in range(3):
        _put(api, as_customer, product.pk, 1)
        api.post("/api/orders", **as_customer)
    with CaptureQueriesContext(connection) as queries:
        orders = api.get("/api/orders", **as_customer).json()["results"]
    assert [o["id"] for o in orders] == sorted((o["id"] for o in orders), reverse=True)
    # user, count, page of orders, their items: independent of the number of orders
    assert len(queries) <= 4
