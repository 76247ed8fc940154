"""Step 5-orders under faults, on the four backends behind real nginx, every one of them reaching
the broker through a fault proxy:
- the catalog service killed during a checkout: a JSON 503 with a code, nothing reserved, no
  order; once it is back the same cart checks out;
- the orders service killed: order and cart reads fall back to the monolith's copy (the plan's
  `fallback`), cart and order writes are a JSON 503; once it is back it serves again;
- the broker cut off: checkouts still succeed, their events wait in the outboxes and flow to
  the copies once it is back.
Afterwards nothing acknowledged is lost and parity is clean for orders and the catalog."""

from __future__ import annotations

import time

import httpx
import pytest

from strangler.sync.client import BackendSync
from tests.contract.api import ShopApi, Unique, eventually
from tests.faults.conftest import redis_broker
from tests.faults.shop_checks import a_json_503
from tests.migration.auth_shop import broker_url, flip, parity_is_clean
from tests.migration.catalog_shop import move_to_the_catalog_step, running_catalog_shop
from tests.support.faults import FaultProxy

pytestmark = pytest.mark.integration

RECOVERY_SECONDS = 60


@pytest.fixture
def broker_fault():
    with FaultProxy.in_front_of(redis_broker()) as fault:
        yield fault


@pytest.fixture
def shop(tmp_path, broker_fault):
    env = {"CELERY_BROKER_URL": broker_fault.url(broker_url())}
    yield from running_catalog_shop(tmp_path, orders=True, env=env)


def _served_by(response: httpx.Response) -> str | None:
    return response.headers.get("X-Served-By")


def _until_served_by(backend: str, read) -> None:
    """nginx tries a failed backend again after its fail_timeout."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while _served_by(answer := read()) != backend:
        assert answer.status_code == 200, answer.text
        assert time.monotonic() < deadline, f"{backend} is never routed to again"
        time.sleep(0.5)


def _orders_of(api: ShopApi, customer) -> list[dict]:
    answer = api.get("/api/orders", customer)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


@pytest.mark.timeout(900)
def test_checkouts_meet_a_dead_catalog_a_dead_orders_service_and_a_broker_outage(
    shop, broker_fault
):
    move_to_the_catalog_step(shop)
    shop.strangled("backfill", "orders")
    parity_is_clean(shop, "orders")
    flip(shop, "apply", "5-orders")

    with httpx.Client(base_url=shop.public_url, timeout=30) as client:
        api = ShopApi(client, Unique())
        customer = api.register()
        staff = api.account("admin@shop.local", "admin-pass-1234")
        lamp = api.create_product(staff, stock=10)
        api.await_orderable(customer, lamp["id"])

        # The catalog's owner killed: the checkout is refused, nothing taken.
        shop.catalog.crash()
        api.set_quantity(customer, lamp["id"], 2)
        refused = api.post("/api/orders", customer)
        assert a_json_503(refused)["code"] == "catalog_unavailable", refused.text
        assert _orders_of(api, customer) == []
        shop.catalog.restart()
        _until_served_by("catalog", lambda: api.get(f"/api/products/{lamp['id']}"))
        assert api.product(lamp["id"])["stock"] == 10
        placed = _checked_out_once_the_catalog_answers(api, customer)
        assert api.product(lamp["id"])["stock"] == 8

        # The orders' owner killed: reads from the monolith's copy, writes a JSON 503.
        orders_before = eventually(lambda: _synced_orders(api, shop, customer))
        shop.orders.crash()
        for path in ("/api/orders", f"/api/orders/{placed.json()['id']}", "/api/cart"):
            read = api.get(path, customer)
            assert (read.status_code, _served_by(read)) == (200, "monolith"), read.text
        assert _orders_of(api, customer) == orders_before
        a_json_503(api.put(f"/api/cart/items/{lamp['id']}", customer, json={"quantity": 1}))
        a_json_503(api.post("/api/orders", customer))
        a_json_503(api.post(f"/api/orders/{placed.json()['id']}/cancel", customer))
        shop.orders.restart()
        _until_served_by("orders", lambda: api.get("/api/cart", customer))

        # The broker cut off: checkouts go on, their events wait and then flow.
        broker_fault.cut()
        api.set_quantity(customer, lamp["id"], 1)
        during = api.post("/api/orders", customer)
        assert during.status_code == 201, during.text
        assert api.product(lamp["id"])["stock"] == 7
        broker_fault.restore()
        order_id = during.json()["id"]
        monolith = BackendSync("monolith", shop.monolith_url)
        assert eventually(lambda: monolith.rows_by_id("order", [order_id]), timeout=60)

    assert broker_fault.refused > 0
    parity_is_clean(shop, "orders")
    parity_is_clean(shop, "catalog")
    parity_is_clean(shop, "catalog", "--copy", "orders")


def _checked_out_once_the_catalog_answers(api: ShopApi, customer) -> httpx.Response:
    """The orders service's circuit to the catalog stays open a few seconds after the catalog
    is back: until then a checkout is refused as before, ordering nothing, and the client
    retries as its Retry-After says."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while (placed := api.post("/api/orders", customer)).status_code != 201:
        assert a_json_503(placed)["code"] == "catalog_unavailable", placed.text
        assert _orders_of(api, customer) == []
        assert time.monotonic() < deadline, "the checkout never went through again"
        time.sleep(1)
    return placed


def _synced_orders(api: ShopApi, shop, customer) -> list[dict] | None:
    """The customer's orders once the monolith's copy holds all of them."""
    orders = _orders_of(api, customer)
    held = BackendSync("monolith", shop.monolith_url).rows_by_id("order", [o["id"] for o in orders])
    return orders if len(held) == len(orders) else None
