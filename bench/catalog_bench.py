"""Benchmark the catalog service's read path against the monolith, through the proxy.

    .venv/bin/python -m bench.catalog_bench            # or: make catalog-bench

Starts a shop of its own on free loopback ports: the monolith seeded with 10,000 products and
the catalog service (LiveBackend, each with its sync consumers and relay; PostgreSQL databases
<suite database>_b_catalog_bench_* when MONOLITH_DATABASE_URL points at PostgreSQL, else
SQLite; the broker CELERY_BROKER_URL names, else a filesystem one), the shipped plan on real
nginx in front of them, and copies the catalog to the service with `strangle backfill catalog`
(then `strangle parity catalog`). The proxy's step is then set directly (no flip hooks): this
measures reads, not flips, which the migration suite covers. Then:

1. Write to read, the service a copy (steps 0 to 3: the monolith owns the catalog): staff PATCH
   a product through the proxy, and reads of the catalog service poll until they show it (the
   event travels outbox, relay, broker, consumer; applying it moves the catalog's generation).
2. The catalog's writes move to the service (ownership set on both backends, as a handover
   leaves it) and the proxy goes to 4-catalog: a PATCH through the proxy, reads through it.
3. The same requests through the proxy at 0-monolith and at 4-catalog must get the same
   answers (status, body, headers but the ETag).
4. Requests per second with wrk through the proxy: the products list, and product details
   with ids drawn as shoppers view products (by popularity, Zipf's law) and drawn uniformly
   from all products (what a cache helps least: most reads are a worker's first of that
   product), at 0-monolith and at 4-catalog back to back, the first of the two alternating,
   after a warm-up of each.

Every load is bounded in time and in requests. Results: bench/results/catalog.md and .json.
Exits 1 when a problem was found (errors, a ratio under 3x, a write not visible within 1 s,
answers that differ).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from django.conf import settings as django_settings

from bench.catalog_report import CatalogReport, SameAnswer, Throughput, Visibility
from bench.report import load_average, publish
from bench.shop_client import access_token, all_product_ids
from bench.wrk_runner import WrkLoad, run_wrk
from tests.migration.harness import REPO_ROOT, RunningProxy, free_port, own_database
from tests.support.broker import empty_sync_queues
from tests.support.live import CATALOG, LiveBackend

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MONOLITH_STEP, CATALOG_STEP = "0-monolith", "4-catalog"
LIST_PATH = "/api/products?page_size=20"
DETAIL_TEMPLATE = "/api/products/%s"
POPULAR_DRAWS = 100_000
# Compared at both steps: what varies between any two answers is left out.
COMPARED_REQUESTS = (
    ("/api/categories", {}),
    (LIST_PATH, {}),
    ("/api/products?page=3&page_size=5&ordering=-price", {}),
    ("/api/products?category=books&q=demo&min_price=10", {}),
    ("/api/products/1", {}),
    ("/api/products/{last}", {"Accept": "application/json; indent=2"}),
    ("/api/products/999999999", {}),
    ("/api/products?min_price=cheap", {}),
)
UNCOMPARED_HEADERS = frozenset({"date", "x-request-id", "etag"})
POLL_INTERVAL_S = 0.005
POLL_LIMIT_S = 5.0
CLI_TIMEOUT_S = 300


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per backend")
    # Each thread keeps a database connection: 16 (deploy/gunicorn.conf.py's default) in 3
    # workers of 2 backends would take most of a PostgreSQL server's 100.
    parser.add_argument("--gunicorn-threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unrecorded load")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--writes", type=int, default=20, help="writes per visibility phase")
    parser.add_argument("--proxy-workers", default="1", help="nginx worker_processes")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(f"[catalog-bench] {message}", file=sys.stderr, flush=True)


@dataclass
class BenchShop:
    monolith: LiveBackend
    catalog: LiveBackend
    proxy: RunningProxy
    cli_env: dict[str, str]

    def strangle(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(REPO_ROOT / "manage.py"), "strangle", *args],
            cwd=REPO_ROOT,
            env=self.cli_env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"strangle {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def step(self, step: str) -> None:
        self.proxy.controller.apply(step)

    def move_catalog_writes_to_the_service(self) -> None:
        """Both backends record the catalog service as the catalog's owner, as a handover
        leaves them (no write is under way: the bench makes them one at a time)."""
        code = (
            "from strangler.sync.ownership import set_ownership\n"
            "set_ownership(domain='catalog', owner='catalog', state='active')"
        )
        for backend in (self.monolith, self.catalog):
            backend.manage("shell", "-c", code)


def configure_django() -> None:
    """The framework's settings in this process: the sync partitions the harness starts
    consumers for, and one internal token that the harness gives both backends and the CLI."""
    if not django_settings.configured:
        django_settings.configure(STRANGLER_INTERNAL_TOKEN=secrets.token_hex(32))


def _broker_url(var_dir: Path) -> str:
    return os.environ.get("CELERY_BROKER_URL") or f"filesystem://{var_dir / 'broker'}"


@contextlib.contextmanager
def bench_shop(tmp: Path, args: argparse.Namespace) -> Iterator[BenchShop]:
    var_dir = tmp / "var"
    ports = {"monolith": free_port(), "catalog": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    broker_url = _broker_url(var_dir)
    empty_sync_queues(broker_url, ["monolith", "catalog"])
    with (
        # First, so that the backends know its internal listener: the monolith's checkouts
        # reserve stock through it once the service owns the catalog.
        RunningProxy(
            tmp / "proxy",
            backends={**urls, "auth": urls["monolith"], "orders": urls["monolith"]},
            # As in production, no X-Served-By: the answers of both steps are compared whole.
            env={"PROXY_SERVED_BY": "0", "PROXY_WORKERS": args.proxy_workers},
        ) as proxy,
        own_database("catalog_bench_monolith") as monolith_db,
        own_database("catalog_bench_catalog") as catalog_db,
    ):
        shared = {
            # One JWT key and internal token for both backends (and the CLI), one broker.
            "SHOP_VAR_DIR": str(var_dir),
            "CELERY_BROKER_URL": broker_url,
            "MONOLITH_URL": urls["monolith"],
            "CATALOG_URL": urls["catalog"],
            # The auth and orders routes go to the monolith, which owns them here.
            "AUTH_URL": urls["monolith"],
            "ORDERS_URL": urls["monolith"],
            "PROXY_INTERNAL_URL": proxy.internal_url,
            "GUNICORN_THREADS": str(args.gunicorn_threads),
        }
        with (
            LiveBackend(
                name="catalog_bench_monolith",
                database_url=monolith_db,
                env=shared,
                products=args.products,
                workers=args.workers,
                sync=True,
                port=ports["monolith"],
            ) as monolith,
            LiveBackend(
                name="catalog_bench_catalog",
                project=CATALOG,
                database_url=catalog_db,
                env=shared,
                workers=args.workers,
                sync=True,
                port=ports["catalog"],
            ) as catalog,
        ):
            yield BenchShop(
                monolith=monolith,
                catalog=catalog,
                proxy=proxy,
                cli_env={**os.environ, **monolith.env, **proxy.env},
            )


def _stock(client: httpx.Client, product_id: int) -> tuple[int | None, int | None]:
    """The product's stock as its detail and as the first list page show it."""
    detail = client.get(f"/api/products/{product_id}").json()["stock"]
    page = client.get(LIST_PATH).json()["results"]
    listed = next((p["stock"] for p in page if p["id"] == product_id), None)
    return detail, listed


def visibility(
    *,
    write: str,
    read: str,
    writer: httpx.Client,
    reader: httpx.Client,
    product_ids: list[int],
    first_stock: int,
) -> Visibility:
    """PATCHes each product's stock, then polls the reader until its detail and the list
    page both show the new value; returns the time from each write's answer."""
    visible: list[float | None] = []
    for n, product_id in enumerate(product_ids):
        stock = first_stock + n
        for _ in range(3):
            _stock(reader, product_id)  # kept answers to invalidate, in some workers at least
        answer = writer.patch(f"/api/products/{product_id}", json={"stock": stock})
        answered = time.perf_counter()
        if answer.status_code != 200:
            raise SystemExit(f"PATCH /api/products/{product_id}: {answer.status_code}")
        seen = None
        while time.perf_counter() - answered < POLL_LIMIT_S:
            if _stock(reader, product_id) == (stock, stock):
                seen = (time.perf_counter() - answered) * 1000
                break
            time.sleep(POLL_INTERVAL_S)
        visible.append(seen)
    log(f"{write} -> {read}: visible after {[round(ms or -1) for ms in visible]} ms")
    return Visibility(write=write, read=read, visible_ms=visible)


def _comparable(answer: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted(
        (name.lower(), value)
        for name, value in answer.headers.multi_items()
        if name.lower() not in UNCOMPARED_HEADERS
    )
    return answer.status_code, answer.content, headers


def same_answers(shop: BenchShop, client: httpx.Client, last_id: int) -> list[SameAnswer]:
    requests = [(path.format(last=last_id), headers) for path, headers in COMPARED_REQUESTS]
    seen: dict[str, list[tuple]] = {}
    for step in (MONOLITH_STEP, CATALOG_STEP):
        shop.step(step)
        for path, headers in requests:
            seen.setdefault(path, []).append(_comparable(client.get(path, headers=headers)))
    answers = []
    for path, (monolith, catalog) in seen.items():
        difference = ""
        if monolith != catalog:
            names = ("status", "body", "headers")
            differing = [n for n, a, b in zip(names, monolith, catalog, strict=True) if a != b]
            difference = ", ".join(differing)
        answers.append(SameAnswer(request=path, same=not difference, difference=difference))
    return answers


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str  # a path, or a template with one %s filled with an id drawn from `ids`
    ids: tuple[int, ...] = ()


def popular_ids(
    product_ids: list[int], *, draws: int, exponent: float = 1.0, seed: int = 7
) -> list[int]:
    """Ids drawn as shoppers view products: by Zipf's law, the product of popularity rank r
    drawn in proportion to 1/r^exponent (the ranks dealt out at random, not by id).
    Deterministic: every run, and both steps, read the same sequence."""
    ranked = list(product_ids)
    dealer = random.Random(seed)
    dealer.shuffle(ranked)
    weights = [1 / rank**exponent for rank in range(1, len(ranked) + 1)]
    return dealer.choices(ranked, weights=weights, k=draws)


def scenarios(product_ids: list[int]) -> list[Scenario]:
    return [
        Scenario("GET /api/products?page_size=20", LIST_PATH),
        Scenario(
            "GET /api/products/{id}, popular products viewed most (Zipf, s = 1)",
            DETAIL_TEMPLATE,
            tuple(popular_ids(product_ids, draws=POPULAR_DRAWS)),
        ),
        Scenario(
            "GET /api/products/{id}, every product alike (uniform: the cache's worst case)",
            DETAIL_TEMPLATE,
            tuple(product_ids),
        ),
    ]


def throughput(
    shop: BenchShop, args: argparse.Namespace, measured: list[Scenario], tmp: Path
) -> list[Throughput]:
    base = shop.proxy.public_url
    load = WrkLoad(args.threads, args.connections, args.duration, args.max_requests)
    warmup = WrkLoad(args.threads, args.connections, args.warmup, args.max_requests)
    rows = {scenario.name: Throughput(scenario=scenario.name) for scenario in measured}
    ids_files = {}
    for index, scenario in enumerate(measured):
        if scenario.ids:
            ids_files[scenario.name] = tmp / f"ids-{index}.txt"
            ids_files[scenario.name].write_text("\n".join(map(str, scenario.ids)) + "\n")

    def run(scenario: Scenario, wrk_load: WrkLoad):
        if scenario.ids:
            return run_wrk(
                scenario=scenario.name,
                url=base,
                load=wrk_load,
                path_template=scenario.path,
                ids_file=ids_files[scenario.name],
            )
        return run_wrk(scenario=scenario.name, url=base + scenario.path, load=wrk_load)

    steps = [MONOLITH_STEP, CATALOG_STEP]
    if args.warmup:
        for step in steps:
            shop.step(step)
            for scenario in measured:
                log(f"warming up {scenario.name} at {step}")
                run(scenario, warmup)
    # Both steps back to back for each scenario, the first of the two alternating: the load
    # that the rest of the machine adds changes by the minute, so a round's two runs meet
    # about the same.
    for round_index in range(args.rounds):
        for index, scenario in enumerate(measured):
            for step in steps if (round_index + index) % 2 == 0 else list(reversed(steps)):
                shop.step(step)
                result = run(scenario, load)
                side = "monolith" if step == MONOLITH_STEP else "catalog"
                getattr(rows[scenario.name], side).append(result)
                log(
                    f"round {round_index + 1}, {step}: {scenario.name}: "
                    f"{result.requests_per_s:.0f} req/s, p99 {result.p99_ms:.1f} ms"
                )
    return list(rows.values())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_django()
    settings = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        "shared by wrk, nginx, both backends and their databases",
        # Other work on the machine skews every figure; the load before the run tells how much.
        "load average at start (1/5/15 min)": load_average(),
        "data": f"{args.products} products seeded in the monolith, backfilled to the service",
        "backends": f"gunicorn (deploy/gunicorn.conf.py), {args.workers} workers x "
        f"{args.gunicorn_threads} threads each; the catalog service's read cache in "
        + (os.environ.get("READ_CACHE_URL") or "each worker's memory (READ_CACHE_URL unset)"),
        "proxy": f"nginx, {args.proxy_workers} worker(s), the shipped plan, "
        "no X-Served-By (as in production)",
        "load": f"wrk, {args.threads} threads, {args.connections} keep-alive connections, "
        f"{args.duration} s per run after {args.warmup} s of warm-up, {args.rounds} rounds",
    }
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as scratch:
        tmp = Path(scratch)
        started = time.monotonic()
        with bench_shop(tmp, args) as shop:
            log(f"shop up after {time.monotonic() - started:.0f}s; copying the catalog")
            shop.strangle("backfill", "catalog")
            log(shop.strangle("parity", "catalog").strip())
            settings["database"] = (
                "PostgreSQL" if shop.monolith.database_url.startswith("postgres") else "SQLite"
            )
            with (
                httpx.Client(base_url=shop.proxy.public_url, timeout=30) as proxied,
                httpx.Client(base_url=shop.catalog.base_url or "", timeout=30) as catalog,
            ):
                product_ids = all_product_ids(proxied)
                token = access_token(
                    proxied,
                    email=os.environ.get("SHOP_ADMIN_EMAIL", "admin@shop.local"),
                    password=os.environ.get("SHOP_ADMIN_PASSWORD", "admin-pass-1234"),
                )
                proxied.headers["Authorization"] = f"Bearer {token}"
                with httpx.Client(base_url=shop.proxy.public_url, timeout=30) as anonymous:
                    phases = [
                        visibility(
                            write="the monolith (owner), through the proxy at 0-monolith",
                            read="the catalog service (its copy), directly",
                            writer=proxied,
                            reader=catalog,
                            product_ids=product_ids[: args.writes],
                            first_stock=500_000,
                        )
                    ]
                    shop.move_catalog_writes_to_the_service()
                    shop.step(CATALOG_STEP)
                    phases.append(
                        visibility(
                            write="the catalog service (owner), through the proxy at 4-catalog",
                            read="the proxy at 4-catalog",
                            writer=proxied,
                            reader=anonymous,
                            product_ids=product_ids[: args.writes],
                            first_stock=600_000,
                        )
                    )
                    # The monolith's copy follows the service's writes before both are compared.
                    log(shop.strangle("parity", "catalog").strip())
                    answers = same_answers(shop, anonymous, product_ids[-1])
            rows = throughput(shop, args, scenarios(product_ids), tmp)
    settings["load average at the end (1/5/15 min)"] = load_average()
    report = CatalogReport(settings=settings, throughput=rows, visibility=phases, answers=answers)
    return publish(report, args.output_dir, log)


if __name__ == "__main__":
    sys.exit(main())
