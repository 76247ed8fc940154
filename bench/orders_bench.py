"""Benchmark the checkout's latency through the proxy: the monolith checking out on its own
tables (step 0-monolith) against the orders service checking out while the catalog service owns
the stock (step 5-orders), side by side in one run.

    .venv/bin/python -m bench.orders_bench            # or: make orders-bench

Starts the shop of the orders extraction's tests (tests/migration/catalog_shop.py): the monolith
and the auth, catalog and orders services, each with its database (PostgreSQL databases when
MONOLITH_DATABASE_URL points at a server, else SQLite), sync consumers and relay (the broker
CELERY_BROKER_URL names, on database SHOP_TEST_REDIS_DB of a Redis server), behind real nginx,
all on free loopback ports. Each customer gets a product of its own with stock for far more
checkouts than the run makes, so no checkout runs out or waits on another's row lock.

Then the closed loop: every customer, in a thread of its own, puts one unit of its product in
its cart (PUT /api/cart/items/{id}) and checks out (POST /api/orders), again and again with no
pause, first a few unrecorded checkouts, then a fixed number of measured ones (stopping early at
a time limit). A phase at 0-monolith, the shop moved to 5-orders with the strangle CLI as an
operator does (backfills, parity, apply 1-auth, 4-catalog, 5-orders), a phase there; with more
rounds the steps alternate (0, 5, 5, 0, ...: a drift of the machine's load weighs on both), the
shop moved back with `strangle apply 0-monolith` and forward with `strangle apply 5-orders`.

Each checkout carries an X-Request-ID of its own, which the proxy and the backends log and pass
on to their internal calls: the proxy's access log (public and internal listeners) and the
backends' access logs give each checkout's time at the proxy and in the backend, and the time of
the reservation it made on the catalog service, as the orders service sees it (through the
internal listener) and inside the catalog service.

Every load is bounded in requests and in time. Results: bench/results/orders.md and .json.
Exits 1 when a problem was found (failed requests, reservations missing from the logs, a
checkout median at 5-orders over 1.5x the monolith's).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.catalog_bench import configure_django
from bench.orders_report import MONOLITH_STEP, ORDERS_STEP, OrdersReport, Phase
from bench.report import load_average, publish
from bench.request_timings import Request, backend_timings, by_request, proxy_timings, timings
from bench.shop_client import (
    CUSTOMER_PASSWORD,
    access_token,
    all_product_ids,
    customer_email,
    customer_tokens,
    stock_up,
)
from strangler.proxy.site import Site
from tests.contract.api import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.migration.auth_shop import parity_is_clean
from tests.migration.catalog_shop import CatalogShop, running_catalog_shop

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SERVED_BY = {MONOLITH_STEP: "monolith", ORDERS_STEP: "orders"}
CHECKOUT = Request("POST", r"/api/orders")
RESERVATION = Request("PUT", r"/internal/catalog/reservations/[^/]+")
REQUEST_TIMEOUT_S = 30.0
# nginx writes its access log every second (buffer=32k flush=1s): wait that out, and some.
LOG_FLUSH_S = 2.5
MAX_ERRORS_KEPT = 10


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=4, help="concurrent customers")
    parser.add_argument(
        "--checkouts", type=int, default=60, help="measured checkouts per customer per phase"
    )
    parser.add_argument("--warmup", type=int, default=5, help="unrecorded checkouts before")
    parser.add_argument("--rounds", type=int, default=2, help="phases at each step")
    parser.add_argument("--phase-limit", type=float, default=180.0, help="seconds per phase")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if not 1 <= args.customers <= 20:
        parser.error("--customers: 1 to 20 (the shop is seeded with 20 products)")
    return args


def log(message: str) -> None:
    print(f"[orders-bench] {message}", file=sys.stderr, flush=True)


def phase_order(rounds: int) -> list[tuple[int, str]]:
    """(round, step) in the order they run: the steps alternate, so each flip serves two
    phases (0, 5, 5, 0, 0, 5, ...) and the rounds' order is balanced."""
    steps = (MONOLITH_STEP, ORDERS_STEP)
    return [
        (number, step)
        for number in range(1, rounds + 1)
        for step in (steps if number % 2 else steps[::-1])
    ]


@dataclass
class Customer:
    """One customer's share of a phase: its times, in milliseconds, and what went wrong."""

    cart_ms: list[float] = field(default_factory=list)
    checkout_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    attempted: int = 0
    started: float = 0.0
    ended: float = 0.0


def _checkout(
    client: httpx.Client, *, product_id: int, request_id: str, served_by: str
) -> tuple[float, float, str | None]:
    """One unit in the cart, then the cart checked out: (cart ms, checkout ms, error)."""
    started = time.perf_counter()
    cart = client.put(
        f"/api/cart/items/{product_id}",
        json={"quantity": 1},
        headers={"X-Request-ID": f"{request_id}-cart"},
    )
    carted = time.perf_counter()
    if cart.status_code != 200:
        return (carted - started) * 1000, 0.0, f"cart: {cart.status_code} {cart.text[:200]}"
    order = client.post("/api/orders", headers={"X-Request-ID": request_id})
    ordered = time.perf_counter()
    error = None
    if order.status_code != 201:
        error = f"checkout: {order.status_code} {order.text[:200]}"
    elif order.headers.get("X-Served-By") != served_by:
        error = f"checkout served by {order.headers.get('X-Served-By')}, not {served_by}"
    return (carted - started) * 1000, (ordered - carted) * 1000, error


def _customer(
    *,
    base_url: str,
    token: str,
    product_id: int,
    prefix: str,
    served_by: str,
    args: argparse.Namespace,
    start: threading.Barrier,
    deadline: float,
) -> Customer:
    done = Customer()
    with httpx.Client(
        base_url=base_url,
        timeout=REQUEST_TIMEOUT_S,
        headers={"Authorization": f"Bearer {token}"},
    ) as client:

        def checkout(request_id: str) -> tuple[float, float, str | None]:
            try:
                return _checkout(
                    client, product_id=product_id, request_id=request_id, served_by=served_by
                )
            except httpx.HTTPError as exc:
                return 0.0, 0.0, f"{type(exc).__name__}: {exc}"

        for number in range(args.warmup):
            error = checkout(f"warmup-{prefix}{number}")[2]
            if error:
                done.errors.append(f"warm-up {error}")
        start.wait(timeout=deadline - time.monotonic())
        done.started = time.perf_counter()
        for number in range(args.checkouts):
            if time.monotonic() > deadline:
                break
            cart_ms, checkout_ms, error = checkout(f"{prefix}{number}")
            done.attempted += 1
            if error:
                done.errors.append(error)
            else:
                done.cart_ms.append(round(cart_ms, 2))
                done.checkout_ms.append(round(checkout_ms, 2))
        done.ended = time.perf_counter()
    return done


def measure(
    shop: CatalogShop,
    *,
    step: str,
    round_number: int,
    product_ids: list[int],
    args: argparse.Namespace,
) -> Phase:
    """One phase at `step`: every customer's checkouts, and their parts from the logs."""
    prefix = f"ob-{step}-r{round_number}-"
    with httpx.Client(base_url=shop.public_url, timeout=REQUEST_TIMEOUT_S) as client:
        # Fresh tokens: access tokens live 15 minutes, and a run may last longer.
        tokens = [
            access_token(client, email=customer_email(n), password=CUSTOMER_PASSWORD)
            for n in range(args.customers)
        ]
    start = threading.Barrier(args.customers)
    deadline = time.monotonic() + args.phase_limit
    with ThreadPoolExecutor(args.customers) as pool:
        running = [
            pool.submit(
                _customer,
                base_url=shop.public_url,
                token=token,
                product_id=product_id,
                prefix=f"{prefix}c{number}-",
                served_by=SERVED_BY[step],
                args=args,
                start=start,
                deadline=deadline,
            )
            for number, (token, product_id) in enumerate(zip(tokens, product_ids, strict=True))
        ]
        customers = [future.result() for future in running]
    time.sleep(LOG_FLUSH_S)
    errors = [error for customer in customers for error in customer.errors]
    phase = Phase(
        step=step,
        round=round_number,
        checkouts=sum(customer.attempted for customer in customers),
        seconds=round(max(c.ended for c in customers) - min(c.started for c in customers), 3),
        errors=len(errors),
        first_errors=errors[:MAX_ERRORS_KEPT],
        timings={
            "checkout": [ms for customer in customers for ms in customer.checkout_ms],
            "cart": [ms for customer in customers for ms in customer.cart_ms],
            **logged_timings(shop, prefix=prefix),
        },
    )
    checkout = phase.of("checkout")
    log(
        f"{phase.label}: {phase.checkouts} checkouts in {phase.seconds:.1f}s, "
        f"{phase.errors} errors, p50 {checkout.p50_ms if checkout else '-'} ms, "
        f"{phase.reservations} reservations logged"
    )
    return phase


def logged_timings(shop: CatalogShop, *, prefix: str) -> dict[str, list[float]]:
    """The parts of the phase's checkouts that the proxy and the backends logged."""
    access_log = Site.from_env(shop.cli_env).access_log
    public = proxy_timings(access_log, listener="public")
    internal = proxy_timings(access_log, listener="internal")
    backends = [
        timed
        for backend in (shop.monolith, shop.orders, shop.catalog)
        if backend is not None
        for timed in backend_timings(backend.log_path)
    ]
    in_backend = by_request(backends, request=CHECKOUT, id_prefix=prefix)
    reserving = by_request(internal, request=RESERVATION, id_prefix=prefix)
    return {
        "checkout_proxy": timings(public, request=CHECKOUT, id_prefix=prefix),
        "checkout_backend": list(in_backend.values()),
        "checkout_own": [
            round(ms - reserving.get(request_id, 0.0), 2) for request_id, ms in in_backend.items()
        ],
        "reservation_proxy": timings(internal, request=RESERVATION, id_prefix=prefix),
        "reservation_catalog": timings(backends, request=RESERVATION, id_prefix=prefix),
    }


def prepare(shop: CatalogShop, args: argparse.Namespace) -> list[int]:
    """The customers, and a product each with stock for every checkout of the run (its id
    returned, in the customers' order)."""
    with httpx.Client(base_url=shop.public_url, timeout=REQUEST_TIMEOUT_S) as client:
        staff = access_token(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
        product_ids = all_product_ids(client)[: args.customers]
        stock_up(client, staff_token=staff, product_ids=product_ids)
        customer_tokens(client, count=args.customers)
    return product_ids


def describe(shop: CatalogShop) -> dict[str, str]:
    """The shop's settings, for the report."""
    monolith = shop.monolith
    database = "PostgreSQL" if (monolith.database_url or "").startswith("postgres") else "SQLite"
    return {
        "database": f"{database}, one database per backend",
        "broker": urlsplit(monolith.env["CELERY_BROKER_URL"]).scheme,
        "backends": f"gunicorn (deploy/gunicorn.conf.py), {monolith.workers} workers x "
        f"{monolith.env.get('GUNICORN_THREADS', '16')} threads each, with their sync consumers "
        "and outbox relays",
        "proxy": f"nginx, {shop.cli_env['PROXY_WORKERS']} workers, the shipped plan; the orders "
        "service reaches the catalog service through its internal listener",
    }


def extract(shop: CatalogShop) -> None:
    """From 0-monolith to 5-orders as an operator goes: each domain backfilled and in parity
    before the step that moves it, the orders service's copies backfilled before its step."""
    shop.strangled("backfill", "auth")
    parity_is_clean(shop, "auth")
    shop.strangled("apply", "1-auth")
    shop.strangled("backfill", "catalog")
    parity_is_clean(shop, "catalog")
    shop.strangled("apply", "4-catalog")
    shop.strangled("backfill", "auth", "--copy", "orders")
    shop.strangled("backfill", "catalog", "--copy", "orders")
    shop.strangled("backfill", "orders")
    parity_is_clean(shop, "orders")
    shop.strangled("apply", "5-orders")


def move(shop: CatalogShop, *, to: str, extracted: bool) -> None:
    started = time.monotonic()
    if to == ORDERS_STEP and not extracted:
        extract(shop)
    else:
        shop.strangled("apply", to)
    log(f"moved to {to} in {time.monotonic() - started:.0f}s")


def run(args: argparse.Namespace) -> tuple[dict[str, str], list[Phase]]:
    """The shop's settings and the phases measured on it."""
    phases = []
    with (
        tempfile.TemporaryDirectory(prefix="orders-bench-") as scratch,
        contextlib.contextmanager(running_catalog_shop)(Path(scratch), orders=True) as shop,
    ):
        log("shop up; preparing customers and products")
        product_ids = prepare(shop, args)
        step, extracted = MONOLITH_STEP, False
        for round_number, target in phase_order(args.rounds):
            if target != step:
                move(shop, to=target, extracted=extracted)
                step, extracted = target, extracted or target == ORDERS_STEP
            phases.append(
                measure(
                    shop, step=step, round_number=round_number, product_ids=product_ids, args=args
                )
            )
        return describe(shop), phases


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_django()
    settings = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, shared "
        "by the load, nginx, four backends and their databases, and by other work that ran "
        "at the same time (other test runs: see the load averages)",
        "load average at start (1/5/15 min)": load_average(),
        "load": f"{args.customers} customers in a closed loop, each on a product of its own; "
        f"per phase {args.warmup} unrecorded then {args.checkouts} measured checkouts each "
        f"(at most {args.phase_limit:.0f} s); {args.rounds} rounds, the steps alternating",
    }
    started = time.monotonic()
    shop_settings, phases = run(args)
    settings.update(shop_settings)
    settings["load average at the end (1/5/15 min)"] = load_average()
    settings["run time"] = f"{time.monotonic() - started:.0f} s, shop start and flips included"
    report = OrdersReport(settings=settings, phases=phases)
    return publish(report, args.output_dir, log)


if __name__ == "__main__":
    sys.exit(main())
