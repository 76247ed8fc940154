"""The orders service as clients and the other backends see it: the cart and orders part of the
contract on its copies of the users and the catalog, its writes recorded for the monolith's
copy, the catalog's owner called for stock, and nothing of the other domains."""

import pytest

from orders.models import CartItem, Order
from strangler.conf import strangler_settings
from strangler.sync.models import Compensation, OutboxEvent
from strangler.sync.ownership import set_ownership

pytestmark = pytest.mark.django_db


def _put(api, headers, product_id: int, quantity: int):
    return api.put(
        f"/api/cart/items/{product_id}", {"quantity": quantity}, format="json", **headers
    )


def test_the_cart_is_served_with_the_contracts_shape_at_the_copys_prices(
    api, as_customer, make_product
):
    lamp = make_product(name="Lamp", price="19.99")

    put = _put(api, as_customer, lamp.pk, 2)

    assert put.status_code == 200, put.content
    assert api.get("/api/cart", **as_customer).json() == {
        "items": [
            {
                "product_id": lamp.pk,
                "sku": lamp.sku,
                "name": "Lamp",
                "unit_price": "19.99",
                "quantity": 2,
                "line_total": "39.98",
            }
        ],
        "item_count": 2,
        "total": "39.98",
    }


def test_orders_are_listed_and_shown_with_the_contracts_shape(
    api, customer, as_customer, make_product, make_order
):
    order = make_order(customer, (make_product(price="4.50"), 3))

    page = api.get("/api/orders", **as_customer).json()
    shown = api.get(f"/api/orders/{order.pk}", **as_customer).json()

    assert page["count"] == 1 and page["results"] == [shown]
    assert shown == {
        "id": order.pk,
        "status": "pending_payment",
        "items": [
            {
                "product_id": order.items.get().product_id,
                "sku": order.items.get().sku,
                "name": order.items.get().name,
                "unit_price": "4.50",
                "quantity": 3,
                "line_total": "13.50",
            }
        ],
        "total": "13.50",
        "created_at": shown["created_at"],
        "paid_at": None,
    }


def test_another_customers_order_is_a_404(
    api, customer, as_other_customer, make_product, make_order
):
    order = make_order(customer, (make_product(), 1))

    assert api.get(f"/api/orders/{order.pk}", **as_other_customer).status_code == 404
    assert api.post(f"/api/orders/{order.pk}/cancel", **as_other_customer).status_code == 404


def test_the_service_records_its_cart_and_order_writes_for_the_monoliths_copy(
    api, as_customer, make_product
):
    _put(api, as_customer, make_product().pk, 1)

    assert OutboxEvent.objects.filter(aggregate_type="cart_item").count() == 1
    for aggregate in ("order", "order_item", "cart_item"):
        assert strangler_settings.subscribers(aggregate, "orders") == ["monolith"]


# A checkout records its compensation in a transaction of its own, before its order's.
@pytest.mark.django_db(transaction=True)
def test_a_checkout_with_the_catalogs_owner_unreachable_is_a_503_and_orders_nothing(
    api, as_customer, make_product
):
    lamp = make_product(stock=5)
    _put(api, as_customer, lamp.pk, 2)

    response = api.post("/api/orders", **as_customer)

    assert response.status_code == 503
    assert response.json()["code"] == "catalog_unavailable"
    assert not Order.objects.exists()
    assert CartItem.objects.get().quantity == 2
    # The release it tried at once failed as well: it waits for the sweeper, harmless if the
    # reservation never arrived.
    assert Compensation.objects.get().attempts == 1


def test_a_cancel_moves_the_order_here_and_releases_its_stock_on_the_catalogs_owner(
    api, customer, as_customer, make_product, make_order
):
    order = make_order(customer, (make_product(), 1))

    response = api.post(f"/api/orders/{order.pk}/cancel", **as_customer)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    # The catalog's owner is out of reach here: the release stays due for the sweeper.
    assert Compensation.objects.get().key == order.reservation_key


def test_a_cart_write_before_the_flip_goes_to_the_owner_and_writes_nothing_here(
    api, as_customer, make_product
):
    lamp = make_product()
    set_ownership(domain="orders", owner="monolith", state="active")

    response = _put(api, as_customer, lamp.pk, 1)

    # Forwarded to the monolith, which is out of reach in these tests.
    assert response.status_code == 503
    assert not CartItem.objects.exists()


def test_a_product_neither_here_nor_reachable_is_a_404(api, as_customer):
    response = _put(api, as_customer, 999_999, 1)

    assert response.status_code == 404
    assert api.get("/api/cart", **as_customer).json()["items"] == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/auth/me"),
        ("get", "/api/products"),
        ("get", "/api/products/1"),
        ("get", "/api/categories"),
        ("get", "/api/products/1/reviews"),
        ("post", "/api/orders/1/pay"),
        ("put", "/internal/catalog/reservations/k1"),
    ],
)
def test_paths_of_other_domains_are_not_served_here(api, as_customer, method, path):
    assert getattr(api, method)(path, **as_customer).status_code == 404


def test_the_sync_api_answers_only_callers_with_the_internal_token(api, internal_headers):
    assert api.get("/internal/sync/status").status_code == 404
    status = api.get("/internal/sync/status", **internal_headers)

    assert status.status_code == 200
    assert {"order", "order_item", "cart_item"} <= set(status.json()["aggregates"])


def test_health_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}
