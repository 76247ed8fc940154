"""Benchmark the monolith: 10,000 products in PostgreSQL, wrk for reads, locust for checkouts.

    .venv/bin/python -m bench.monolith_bench            # or: make bench

Creates the database fresh (dropped again at the end unless --keep-database), seeds it through
`manage.py seed_shop`, serves the monolith on a free loopback port and measures, one scenario
after the other:
  - GET /api/products?page_size=20                  (wrk)
  - GET /api/products/{id}, ids drawn from all products  (wrk)
  - checkout: PUT /api/cart/items/{id} then POST /api/orders, per pre-registered customer (locust)
Every run is bounded both in time and in requests. Prints a Markdown table and writes it to
bench/results/monolith.md and .json. Exits 1 when a scenario saw more than 1% errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

from bench.locust_runner import LocustLoad, run_checkout
from bench.report import BenchReport, ScenarioResult
from bench.shop_client import all_product_ids, prepare_checkout
from bench.wrk_runner import WrkLoad, run_wrk
from tests.support.live import LiveBackend

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shop_c_bench"
MAX_ERROR_RATIO = 0.01


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the database to create fresh (default: %(default)s)",
    )
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2 * cores + 1, help="gunicorn workers")
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unrecorded load first")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per GET scenario")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--customers", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--max-checkouts", type=int, default=20_000, help="cap on checkouts")
    parser.add_argument("--checkout-products", type=int, default=50, help="products bought")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--keep-database", action="store_true")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def recreate_database(database_url: str) -> None:
    drop_database(database_url)
    name = sql.Identifier(database_url_name(database_url))
    with psycopg.connect(maintenance_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database(database_url: str) -> None:
    name = sql.Identifier(database_url_name(database_url))
    with psycopg.connect(maintenance_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def database_url_name(database_url: str) -> str:
    name = urlsplit(database_url).path.lstrip("/")
    if not name:
        raise SystemExit(f"--database-url needs a database name: {database_url}")
    return name


def maintenance_url(database_url: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def server_version(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


def measure(args: argparse.Namespace, backend: LiveBackend, ids_file: Path) -> list[ScenarioResult]:
    base_url = backend.base_url or ""
    staff_email = os.environ.get("SHOP_ADMIN_EMAIL", "admin@shop.local")
    staff_password = os.environ.get("SHOP_ADMIN_PASSWORD", "admin-pass-1234")
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        product_ids = all_product_ids(client)
        log(f"{len(product_ids)} products served; preparing {args.customers} customers")
        fixtures = prepare_checkout(
            client,
            staff_email=staff_email,
            staff_password=staff_password,
            product_ids=product_ids,
            pool_size=args.checkout_products,
            customers=args.customers,
        )
    ids_file.write_text("\n".join(str(product_id) for product_id in product_ids) + "\n")

    load = WrkLoad(
        threads=args.threads,
        connections=args.connections,
        duration_s=args.duration,
        max_requests=args.max_requests,
    )
    list_url = f"{base_url}/api/products?page_size=20"
    detail = {"path_template": "/api/products/%s", "ids_file": ids_file}
    if args.warmup:
        log(f"warming up for {args.warmup}s")
        warmup = WrkLoad(args.threads, args.connections, args.warmup, args.max_requests)
        run_wrk(scenario="warm-up", url=list_url, load=warmup)
        run_wrk(scenario="warm-up", url=base_url, load=warmup, **detail)

    results = []
    log("GET /api/products?page_size=20")
    results.append(run_wrk(scenario="GET /api/products?page_size=20", url=list_url, load=load))
    log("GET /api/products/{id}")
    results.append(
        run_wrk(scenario="GET /api/products/{id} (random ids)", url=base_url, load=load, **detail)
    )
    log("checkout flow")
    results += run_checkout(
        base_url=base_url,
        tokens=fixtures.tokens,
        product_ids=fixtures.product_ids,
        load=LocustLoad(
            users=args.customers, duration_s=args.duration, max_checkouts=args.max_checkouts
        ),
    )
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database_url = args.database_url
    recreate_database(database_url)
    report = BenchReport(
        title="Monolith benchmark",
        settings={
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}",
            # Other work on the machine skews every figure; the load before the run tells how much.
            "load average at start (1/5/15 min)": " / ".join(
                f"{value:.2f}" for value in os.getloadavg()
            ),
            "database": f"PostgreSQL {server_version(database_url)}, {args.products} products",
            "server": f"gunicorn, {args.workers} sync workers, loopback",
            "reads": f"wrk, {args.threads} threads, {args.connections} connections, "
            f"{args.duration}s or {args.max_requests} requests per scenario",
            "checkout": f"locust, {args.customers} users with pre-issued tokens, "
            f"{args.duration}s or {args.max_checkouts} checkouts",
        },
    )
    try:
        log(f"seeding {args.products} products into {database_url_name(database_url)}")
        started = time.monotonic()
        with LiveBackend(
            name="bench",
            database_url=database_url,
            products=args.products,
            workers=args.workers,
        ) as backend:
            log(f"monolith ready at {backend.base_url} after {time.monotonic() - started:.0f}s")
            with tempfile.TemporaryDirectory(prefix="shop-bench-") as scratch:
                report.results = measure(args, backend, Path(scratch) / "product-ids.txt")
    finally:
        if not args.keep_database:
            drop_database(database_url)

    print(report.to_markdown())
    markdown, machine = report.write(directory=args.output_dir, stem="monolith")
    log(f"written {markdown} and {machine}")
    failing = [
        row.scenario
        for row in report.results
        if row.requests == 0 or row.errors / row.requests > MAX_ERROR_RATIO
    ]
    if failing:
        log(f"too many errors in: {', '.join(failing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
