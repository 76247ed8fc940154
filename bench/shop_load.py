"""The shop's load during its flips: customers filling carts, checking out, paying and
cancelling, staff editing and creating products, anonymous clients reading. Every answer is
timed; `409 out_of_stock` is an answer, anything unexpected a failure. Afterwards
`stock_conserved` checks, on any backend's copy, that stock + units in live (pending or paid)
orders = the stock the products had before the load, and `orders_as_answered` that every order a
customer was answered for is there once, in the state its last answer gave (paid orders paid by
the payment they were answered with).

    .venv/bin/python -m bench.shop_load --base-url http://127.0.0.1:8080 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from dataclasses import dataclass, field

import httpx

from .write_load import Load

STAFF = ("admin@shop.local", "admin-pass-1234")
CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


@dataclass
class Orders:
    """What the customers ordered: order id -> {product id: units}, and which were cancelled."""

    lines: dict[int, dict[int, int]] = field(default_factory=dict)
    cancelled: set[int] = field(default_factory=set)
    paid: dict[int, int] = field(default_factory=dict)  # order id -> payment id
    owners: dict[int, str] = field(default_factory=dict)  # order id -> its customer's token

    def live_units(self) -> dict[int, int]:
        units: dict[int, int] = {}
        for order_id, lines in self.lines.items():
            if order_id not in self.cancelled:
                for product_id, quantity in lines.items():
                    units[product_id] = units.get(product_id, 0) + quantity
        return units


class ShopLoad(Load):
    """`customers` checkout loops over a few scarce `products`, one staff client, readers."""

    def __init__(
        self,
        base_url: str,
        *,
        products: list[int],
        customers: int = 6,
        readers: int = 2,
        staff: tuple[str, str] = STAFF,
        **kw,
    ) -> None:
        self.roles = ["staff", *["reader"] * readers, *["customer"] * customers]
        super().__init__(base_url, clients=len(self.roles), **kw)
        self.products = products
        self.staff = staff
        self.orders = Orders()
        self.created_products: list[int] = []

    def _client(self, number: int) -> None:
        role = self.roles[number]
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            getattr(self, f"_{role}")(client, number)

    def _customer(self, client: httpx.Client, number: int) -> None:
        pair = None
        while pair is None and not self.stopping.is_set():
            pair = self._register(client, number)
        rng = random.Random(number)
        while pair is not None and not self.stopping.is_set():
            bearer = {"Authorization": f"Bearer {pair['access']}"}
            product = rng.choice(self.products)
            units = rng.randint(1, 2)
            put = self._call(
                client,
                "cart put",
                200,
                "PUT",
                f"/api/cart/items/{product}",
                json={"quantity": units},
                headers=bearer,
            )
            if put is None:
                continue
            placed = self._call(
                client, "checkout", {201, 409}, "POST", "/api/orders", headers=bearer
            )
            if placed is not None and placed.status_code == 201:
                order = placed.json()
                with self._lock:
                    self.orders.lines[order["id"]] = {
                        item["product_id"]: item["quantity"] for item in order["items"]
                    }
                    self.orders.owners[order["id"]] = pair["access"]
                fate = rng.random()
                if fate < 0.35:
                    paid = self._call(
                        client,
                        "pay",
                        200,
                        "POST",
                        f"/api/orders/{order['id']}/pay",
                        json=CARD,
                        headers=bearer,
                    )
                    if paid is not None:
                        with self._lock:
                            self.orders.paid[order["id"]] = paid.json()["payment_id"]
                elif fate < 0.7:
                    cancelled = self._call(
                        client,
                        "cancel",
                        200,
                        "POST",
                        f"/api/orders/{order['id']}/cancel",
                        headers=bearer,
                    )
                    if cancelled is not None:
                        with self._lock:
                            self.orders.cancelled.add(order["id"])
            elif placed is not None:
                # Out of stock: the cart is kept; empty it for the next round.
                self._call(
                    client,
                    "cart put",
                    200,
                    "PUT",
                    f"/api/cart/items/{product}",
                    json={"quantity": 0},
                    headers=bearer,
                )
            time.sleep(self.pause)

    def _staff(self, client: httpx.Client, number: int) -> None:
        email, password = self.staff
        login = None
        while login is None and not self.stopping.is_set():
            login = self._call(
                client,
                "login",
                200,
                "POST",
                "/api/auth/token",
                json={"email": email, "password": password},
            )
        turn = 0
        while login is not None and not self.stopping.is_set():
            bearer = {"Authorization": f"Bearer {login.json()['access']}"}
            if turn % 5 == 0:
                body = {
                    "sku": f"LOAD-{uuid.uuid4().hex[:12]}",
                    "name": f"Load product {turn}",
                    "price": "9.99",
                    "category": "books",
                    "stock": 10,
                }
                created = self._call(
                    client,
                    "product create",
                    201,
                    "POST",
                    "/api/products",
                    json=body,
                    headers=bearer,
                )
                if created is not None:
                    with self._lock:
                        self.created_products.append(created.json()["id"])
            else:
                product = self.products[turn % len(self.products)]
                self._call(
                    client,
                    "product edit",
                    200,
                    "PATCH",
                    f"/api/products/{product}",
                    json={"description": f"edited {turn}"},
                    headers=bearer,
                )
            turn += 1
            if turn % 50 == 0:
                refreshed = self._call(
                    client,
                    "login",
                    200,
                    "POST",
                    "/api/auth/token",
                    json={"email": email, "password": password},
                )
                login = refreshed or login
            time.sleep(self.pause * 4)

    def _reader(self, client: httpx.Client, number: int) -> None:
        rng = random.Random(1000 + number)
        paths = ["/api/products?page_size=20", "/api/categories", "/api/products?ordering=-price"]
        while not self.stopping.is_set():
            path = rng.choice([*paths, f"/api/products/{rng.choice(self.products)}"])
            self._call(client, f"GET {path.split('?')[0].rstrip('0123456789')}", 200, "GET", path)
            time.sleep(self.pause)


def stock_of(base_url: str, products: list[int]) -> dict[int, int]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return {p: client.get(f"/api/products/{p}").json()["stock"] for p in products}


def stock_conserved(
    *, initial: dict[int, int], now: dict[int, int], orders: Orders
) -> dict[int, tuple[int, int, int]]:
    """Products whose stock + live units != initial: {id: (initial, now, live units)}."""
    live = orders.live_units()
    return {
        p: (initial[p], now[p], live.get(p, 0))
        for p in initial
        if now[p] + live.get(p, 0) != initial[p]
    }


def orders_as_answered(base_url: str, orders: Orders) -> dict[int, str]:
    """Orders not as their customers were last answered: {id: what is wrong}. Each customer's
    order list holds exactly their orders, once each."""
    wrong: dict[int, str] = {}
    by_customer: dict[str, set[int]] = {}
    for order_id, token in orders.owners.items():
        by_customer.setdefault(token, set()).add(order_id)
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for token, placed in by_customer.items():
            listed, page = [], "/api/orders?page_size=100"
            while page:
                answer = client.get(page, headers={"Authorization": f"Bearer {token}"}).json()
                listed += answer["results"]
                page = answer["next"]
            ids = [order["id"] for order in listed]
            if sorted(ids) != sorted(placed):
                wrong.update({i: "lost or duplicated" for i in set(ids) ^ placed})
            for order in listed:
                expected = (
                    "cancelled"
                    if order["id"] in orders.cancelled
                    else "paid"
                    if order["id"] in orders.paid
                    else "pending_payment"
                )
                if order["status"] != expected:
                    wrong[order["id"]] = f"{order['status']}, answered {expected}"
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--products", default="1,2,3,4", help="product ids the customers buy")
    parser.add_argument("--customers", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--check",
        action="append",
        default=[],
        help="a backend URL whose copy must conserve stock afterwards (repeatable)",
    )
    args = parser.parse_args()
    products = [int(p) for p in args.products.split(",")]
    initial = stock_of(args.base_url, products)
    with ShopLoad(args.base_url, products=products, customers=args.customers) as load:
        time.sleep(args.seconds)
    time.sleep(2)  # the copies trail the owner by the sync lag
    summary = load.report.summary()
    summary["orders"] = len(load.orders.lines)
    summary["cancelled"] = len(load.orders.cancelled)
    summary["paid"] = len(load.orders.paid)
    summary["payments_unique"] = len(set(load.orders.paid.values())) == len(load.orders.paid)
    summary["orders_not_as_answered"] = orders_as_answered(args.base_url, load.orders)
    summary["created_products"] = load.created_products[-5:]
    summary["stock_not_conserved"] = {
        url: stock_conserved(initial=initial, now=stock_of(url, products), orders=load.orders)
        for url in [args.base_url, *args.check]
    }
    print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
