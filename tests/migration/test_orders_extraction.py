"""Step 5 end to end: carts and orders move to the orders service. The monolith
and the auth, catalog and orders services, each with its own database, sync consumers and relay,
run behind real nginx; auth and the catalog are moved first (to `4-catalog`), a customer fills a
cart and places orders (two left unpaid, one paid, one cancelled), `apply 5-orders` is refused
until the orders are backfilled, then backfill, parity and the flip, `rollback` and `apply`
again, all under a load of customers filling carts, checking out, paying and cancelling: no
failure, nothing over 3 s, stock conserved on every copy, every order as its customer was
answered, each payment paying one order. After it the orders service
serves the same cart and the same orders under the same ids, its new orders take ids past the
monolith's, parity is clean both ways, the service's copies of the users and the catalog (fed
by their owners' events, backfilled with `--copy orders`) match their owners', and the cart,
orders and payments contract holds through the proxy.

Paying stays in the monolith, which after the flip reads a copy of the orders and moves an
order to `paid` through the orders service's internal API: the old unpaid order is paid once,
the paid one stays paid, and a payment racing a cancel has exactly one winner."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest

from bench.shop_load import ShopLoad, orders_as_answered, stock_conserved, stock_of
from tests.contract.api import ShopApi, Unique, eventually
from tests.migration.auth_shop import contract_holds_through_the_proxy, flip, parity_is_clean
from tests.migration.catalog_shop import move_to_the_catalog_step, running_catalog_shop

pytestmark = pytest.mark.integration

CONTRACT_SUITES = (
    "test_auth.py",
    "test_catalog.py",
    "test_cart_orders.py",
    "test_payments.py",
    "test_reviews.py",
    "test_bad_input.py",
    "test_conventions.py",
)


@pytest.fixture
def shop(tmp_path):
    yield from running_catalog_shop(tmp_path, orders=True)


def _served(response: httpx.Response, by: str) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["X-Served-By"] == by
    return response.json()


@pytest.mark.timeout(900)
def test_a_cart_and_orders_made_before_the_flip_are_served_by_the_orders_service_after_it(shop):
    move_to_the_catalog_step(shop)

    with httpx.Client(base_url=shop.public_url, timeout=30) as client, ExitStack() as loaded:
        api = ShopApi(client, Unique())
        customer = api.register()
        staff = api.account("admin@shop.local", "admin-pass-1234")
        lamp, mug, kettle = (api.create_product(staff, stock=10) for _ in range(3))
        unpaid = api.checkout(customer, {lamp["id"]: 2})
        to_pay = api.checkout(customer, {mug["id"]: 2})
        paid = api.checkout(customer, {mug["id"]: 1})
        assert api.pay(customer, paid["id"]).status_code == 200
        cancelled = api.checkout(customer, {kettle["id"]: 1})
        assert api.post(f"/api/orders/{cancelled['id']}/cancel", customer).status_code == 200
        api.set_quantity(customer, lamp["id"], 3)
        api.set_quantity(customer, kettle["id"], 1)
        cart = _served(api.get("/api/cart", customer), "monolith")
        orders = _served(api.get("/api/orders", customer), "monolith")
        assert [o["status"] for o in orders["results"]] == [
            "cancelled",
            "paid",
            "pending_payment",
            "pending_payment",
        ]

        refused = shop.strangle("apply", "5-orders")
        assert refused.returncode == 1
        assert "never backfilled: run `strangle backfill orders`" in refused.stderr

        shop.strangled("backfill", "orders")
        parity_is_clean(shop, "orders")
        hot = [api.create_product(staff, stock=40)["id"] for _ in range(4)]
        for product_id in hot:
            api.await_orderable(customer, product_id)
        initial = stock_of(shop.public_url, hot)
        load = loaded.enter_context(ShopLoad(shop.public_url, products=hot, readers=1))
        time.sleep(4)
        pauses = [flip(shop, "apply", "5-orders")]

        assert _served(api.get("/api/cart", customer), "orders") == cart
        assert _served(api.get("/api/orders", customer), "orders") == orders
        assert _served(api.get(f"/api/orders/{unpaid['id']}", customer), "orders") == unpaid

        # The cart checked out on the service: stock taken on the catalog's owner, an id past
        # every id the monolith gave out.
        placed = api.post("/api/orders", customer)
        assert placed.status_code == 201, placed.text
        assert placed.headers["X-Served-By"] == "orders"
        assert placed.json()["id"] > max(o["id"] for o in orders["results"])
        assert api.product(lamp["id"])["stock"] == 10 - 2 - 3
        # The old unpaid order, cancelled on the service: its stock comes back.
        again = api.post(f"/api/orders/{unpaid['id']}/cancel", customer)
        assert _served(again, "orders")["status"] == "cancelled"
        assert eventually(lambda: api.product(lamp["id"])["stock"] == 10 - 3)

        # The monolith pays the old unpaid order on the orders service, once.
        assert api.pay(customer, to_pay["id"]).status_code == 200
        assert _served(api.get(f"/api/orders/{to_pay['id']}", customer), "orders")["status"] == (
            "paid"
        )
        second = api.pay(customer, to_pay["id"])
        assert second.status_code == 409 and second.json()["code"] == "not_payable"
        # The order paid before the flip stays paid.
        kept = api.post(f"/api/orders/{paid['id']}/cancel", customer)
        assert kept.status_code == 409 and kept.json()["code"] == "not_cancellable"
        assert api.order(customer, paid["id"])["status"] == "paid"

        paid_won = _a_payment_racing_a_cancel_has_one_winner(shop, customer, mug["id"])
        # Stock conserved: the paid orders' units are gone, a cancelled order's came back.
        left = 10 - 1 - 2 - (1 if paid_won else 0)
        assert eventually(lambda: api.product(mug["id"])["stock"] == left)
        _the_last_unit_is_sold_once(shop, api, staff)

        # Back and forth again under the load: customers filling carts, checking out, paying
        # and cancelling, staff editing products, anonymous clients reading.
        time.sleep(4)
        pauses.append(flip(shop, "rollback"))
        time.sleep(4)
        pauses.append(flip(shop, "apply", "5-orders"))
        time.sleep(4)
        loaded.close()  # the load stops
    _nothing_lost_under_the_load(shop, load, initial, pauses)

    parity_is_clean(shop, "orders")
    parity_is_clean(shop, "auth", "--copy", "orders")
    parity_is_clean(shop, "catalog", "--copy", "orders")
    contract_holds_through_the_proxy(shop, *CONTRACT_SUITES)


def _nothing_lost_under_the_load(shop, load: ShopLoad, initial: dict, pauses: list) -> None:
    report = load.report
    assert report.failures == [], report.summary()
    assert report.outcomes["checkout ok"] > 10 and report.outcomes["pay ok"] > 3, report.summary()
    assert max(report.latencies) < 3.0, (report.summary(), pauses)
    time.sleep(2)  # the copies trail the owners by the sync lag
    for base_url in (shop.public_url, shop.catalog_url, shop.monolith_url):
        now = stock_of(base_url, list(initial))
        assert stock_conserved(initial=initial, now=now, orders=load.orders) == {}, base_url
    assert orders_as_answered(shop.public_url, load.orders) == {}
    assert len(set(load.orders.paid.values())) == len(load.orders.paid)
    parity_is_clean(shop, "auth")
    parity_is_clean(shop, "catalog")


def _the_last_unit_is_sold_once(shop, api: ShopApi, staff) -> None:
    """Customers check out the last unit of a product at once, half of them through the proxy
    (to the orders service), half straight at the monolith (which forwards the checkout to the
    orders' owner): one order, every other answer `409 out_of_stock`, no stock below zero."""
    last = api.create_product(staff, stock=1)
    customers = [api.register() for _ in range(6)]
    for customer in customers:
        api.await_orderable(customer, last["id"])
        api.set_quantity(customer, last["id"], 1)

    def checkout(number: int) -> int:
        base_url = shop.public_url if number % 2 else shop.monolith_url
        with httpx.Client(base_url=base_url, timeout=30) as client:
            return ShopApi(client, Unique()).post("/api/orders", customers[number]).status_code

    with ThreadPoolExecutor(len(customers)) as race:
        answers = sorted(race.map(checkout, range(len(customers))))

    assert answers == [201] + [409] * (len(customers) - 1), answers
    assert api.product(last["id"])["stock"] == 0


def _a_payment_racing_a_cancel_has_one_winner(shop, customer, product_id: int) -> bool:
    """A payment and a cancel of one order at once: the orders service lets one move it, and
    the loser's answer says so (a payment that lost has its charge voided). Whether the payment
    won."""
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        order = ShopApi(client, Unique()).checkout(customer, {product_id: 1})

    def pay() -> httpx.Response:
        with httpx.Client(base_url=shop.public_url, timeout=30) as client:
            return ShopApi(client, Unique()).pay(customer, order["id"])

    def cancel() -> httpx.Response:
        with httpx.Client(base_url=shop.public_url, timeout=30) as client:
            return ShopApi(client, Unique()).post(f"/api/orders/{order['id']}/cancel", customer)

    with ThreadPoolExecutor(2) as race:
        paid, cancelled = (answer.result() for answer in (race.submit(pay), race.submit(cancel)))

    assert sorted([paid.status_code, cancelled.status_code]) == [200, 409], (paid, cancelled)
    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        final = ShopApi(client, Unique()).order(customer, order["id"])["status"]
    assert final == ("paid" if paid.status_code == 200 else "cancelled")
    return paid.status_code == 200
