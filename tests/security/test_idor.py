"""Customer B, logged in, tries A's ids on every endpoint of shop-api.md: another user's resource
is 404 (never 403, never 200, never a 409 that would tell it exists) and nothing of A changes.
Anonymous requests are 401."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.contract.api import GOOD_CARD, Account, ShopApi
from tests.security.conftest import (
    SecureShop,
    assert_leaks_nothing_of,
    assert_not_found,
    assert_unauthorized,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# Ids no order has: zero, the largest the URLs accept, and one digit more (no route matches).
ABSENT_IDS = [0, 999_999_999_999_999_999, 9_999_999_999_999_999_999]


@dataclass(frozen=True)
class VictimData:
    product_id: int
    pending_order: dict
    paid_order: dict
    cart: dict

    @property
    def order_ids(self) -> list[int]:
        return [self.pending_order["id"], self.paid_order["id"]]


@pytest.fixture(scope="module")
def a(api: ShopApi, victim: Account, product: dict) -> VictimData:
    """A's pending order, paid order and cart (with one item in it)."""
    pending = api.checkout(victim, {product["id"]: 1})
    paid = api.checkout(victim, {product["id"]: 1})
    assert api.pay(victim, paid["id"]).status_code == 200
    api.set_quantity(victim, product["id"], 3)
    return VictimData(
        product_id=product["id"],
        pending_order=api.order(victim, pending["id"]),
        paid_order=api.order(victim, paid["id"]),
        cart=api.cart(victim),
    )


def assert_untouched(api: ShopApi, victim: Account, a: VictimData) -> None:
    assert api.order(victim, a.pending_order["id"]) == a.pending_order
    assert api.order(victim, a.paid_order["id"]) == a.paid_order
    assert api.cart(victim) == a.cart


def test_reading_another_customers_order_is_404_and_leaks_nothing(api, attacker, victim, a):
    for order_id in a.order_ids:
        response = api.get(f"/api/orders/{order_id}", attacker)

        assert_not_found(response)
        assert_leaks_nothing_of(victim, response)


def test_another_customers_orders_are_not_in_the_own_list(api, attacker, a):
    response = api.get("/api/orders", attacker, params={"page_size": 100})

    assert response.status_code == 200, response.text
    assert not {order["id"] for order in response.json()["results"]} & set(a.order_ids)


def test_cancelling_another_customers_order_is_404_and_changes_nothing(api, attacker, victim, a):
    stock = api.product(a.product_id)["stock"]

    for order_id in a.order_ids:
        assert_not_found(api.post(f"/api/orders/{order_id}/cancel", attacker))

    assert_untouched(api, victim, a)
    assert api.product(a.product_id)["stock"] == stock


def test_paying_another_customers_order_is_404_and_charges_nothing(api, attacker, victim, a):
    for order_id in a.order_ids:
        response = api.post(f"/api/orders/{order_id}/pay", attacker, json=GOOD_CARD)

        assert_not_found(response)
        assert_leaks_nothing_of(victim, response)

    assert_untouched(api, victim, a)


def test_a_customers_cart_writes_never_reach_another_customers_cart(api, attacker, victim, a):
    path = f"/api/cart/items/{a.product_id}"

    assert_not_found(api.delete(path, attacker))  # the item is in A's cart, not B's
    own = api.put(path, attacker, json={"quantity": 5})
    assert own.status_code == 200 and own.json()["item_count"] == 5, own.text
    assert api.delete(path, attacker).json()["item_count"] == 0

    assert_untouched(api, victim, a)


def test_a_customers_own_cart_never_shows_another_customers_items(api, attacker, victim, a):
    response = api.get("/api/cart", attacker)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    assert_leaks_nothing_of(victim, response)


@pytest.mark.parametrize("order_id", ABSENT_IDS)
@pytest.mark.parametrize(
    "method, suffix", [("GET", ""), ("POST", "/cancel"), ("POST", "/pay")], ids=str
)
def test_an_order_id_nobody_has_is_404_never_a_server_error(
    api, attacker, order_id, method, suffix
):
    response = api.client.request(
        method, f"/api/orders/{order_id}{suffix}", headers=attacker.auth, json=GOOD_CARD
    )

    assert_not_found(response)


def test_a_customer_cannot_change_or_delete_a_product(secure_shop: SecureShop, attacker, a):
    api = secure_shop.api
    path = f"/api/products/{a.product_id}"
    before = api.product(a.product_id)

    for response in (
        api.patch(path, attacker, json={"price": "0.01", "stock": 0}),
        api.delete(path, attacker),
    ):
        assert response.status_code == 403, response.text

    assert api.product(a.product_id) == before


ANONYMOUS_CALLS = [
    ("GET", "/api/auth/me"),
    ("GET", "/api/cart"),
    ("PUT", "/api/cart/items/{product}"),
    ("DELETE", "/api/cart/items/{product}"),
    ("POST", "/api/orders"),
    ("GET", "/api/orders"),
    ("GET", "/api/orders/{order}"),
    ("POST", "/api/orders/{order}/cancel"),
    ("POST", "/api/orders/{order}/pay"),
    ("POST", "/api/products"),
    ("PATCH", "/api/products/{product}"),
    ("DELETE", "/api/products/{product}"),
    ("POST", "/api/products/{product}/reviews"),
]


@pytest.mark.parametrize("method, template", ANONYMOUS_CALLS, ids=" ".join)
def test_an_anonymous_request_is_401(api, victim, a, method, template):
    path = template.format(product=a.product_id, order=a.pending_order["id"])

    response = api.client.request(method, path, json={"quantity": 1, **GOOD_CARD})

    assert_unauthorized(response)
    assert_leaks_nothing_of(victim, response)
