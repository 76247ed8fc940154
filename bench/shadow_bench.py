"""Benchmark the shadow: catalog reads through the proxy with mirroring off and on, side by side.

    .venv/bin/python -m bench.shadow_bench            # or: make shadow-bench

Starts a shop of its own on free loopback ports: the monolith (seeded with --products products)
and the catalog service, each under gunicorn (deploy/gunicorn.conf.py) on a database of its own
(LiveBackend: PostgreSQL when MONOLITH_DATABASE_URL points at it, else SQLite), and the shipped
plan on real nginx in front of them (the auth backend is the monolith: catalog reads never reach
it). The catalog's copy is filled by `strangle backfill catalog`, ids kept; no sync processes
run, since nothing is written during the benchmark and their polling would only add noise.

The proxy's controller then moves between two steps, pushing the step table without a reload:
`1-auth` (shadow off) and `2-catalog-shadow` (shadow on: the monolith still serves the catalog
reads, and the proxy copies each one to the catalog service, then asks the monolith again, from
a timer once the client has its answer). Each round runs wrk, for every load shape and catalog
read (the products list; a product drawn from every id), with the shadow off and on back to
back (a pair, the order swapped every other round). A shadowed window starts on an emptied
shadow log and ends once its copies have landed, so none spills into the next window; its log
is then counted (entries, dropped copies, failed shadow answers) and `strangle shadow-report
--json` says how many answers it compared and found differing, in which fields. The proxy's
access log of each window splits nginx's time of a read into the primary's and its own.

Two load shapes, with the same wrk threads and connections: saturating (each connection sends
its next request as soon as it has an answer: what the shadow's extra work costs shows as fewer
requests per second) and paced (each connection pauses --paced-pause-ms first, leaving the
machine headroom: what the shadow costs shows in the latencies).

Results: bench/results/shadow.md and .json (medians over the windows of each condition, ratios
on / off, every window). Every wrk run is bounded in time and in requests.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.report import load_average
from bench.shadow_results import (
    ON,
    ShadowLog,
    Window,
    compare,
    conditions_of_round,
    proxy_times,
    shadow_log_counts,
    to_json,
    to_markdown,
    with_report,
)
from bench.shop_client import all_product_ids
from bench.wrk_runner import WrkLoad, run_wrk
from strangler.shadow.source import LOG_LIMIT
from tests.migration.auth_shop import Shop
from tests.migration.harness import RunningProxy, free_port
from tests.support.live import CATALOG, LiveBackend

RESULTS_DIR = Path(__file__).resolve().parent / "results"
STEPS = {"off": "1-auth", "on": "2-catalog-shadow"}
# Copies left in flight at the end of a window: each takes at most two shadow_timeouts.
DRAIN_TIMEOUT = 60.0
DRAIN_POLL = 0.2
# The access log's `flush=1s` (strangler/proxy/templates/nginx.conf.j2), and a margin.
ACCESS_LOG_FLUSH = 1.5


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str  # the plan's route, as the shadow report names it
    path: str  # with one %s, filled by wrk with ids drawn from every product


ENDPOINTS = (
    Endpoint(name="products list", route="products", path="/api/products"),
    Endpoint(name="product detail", route="product", path="/api/products/%s"),
)


@dataclass(frozen=True)
class LoadShape:
    name: str
    load: WrkLoad


@dataclass
class ShadowShop:
    proxy: RunningProxy
    cli: Shop  # the migration harness's shop: `strangle` against this proxy and backends
    ids_file: Path

    def set_shadow(self, condition: str) -> None:
        self.proxy.controller.apply(STEPS[condition])

    def strangle_json(self, *args: str) -> dict | None:
        """The JSON a `strangle ... --json` printed, or None (said on stderr) when it printed
        none; a report whose gate fails exits 1 and still prints its figures."""
        done = self.cli.strangle(*args, "--json")
        try:
            data: dict = json.loads(done.stdout)
            return data
        except ValueError:
            log(f"strangle {' '.join(args)} printed no JSON: {done.stderr.strip()[-500:]}")
            return None


def log(message: str) -> None:
    print(f"[shadow-bench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def shadow_shop(
    tmp: Path, *, products: int, workers: int, threads: int, proxy_workers: str
) -> Iterator[ShadowShop]:
    ports = {"monolith": free_port(), "catalog": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    shared = {
        # One var/ for both backends and the CLI: the generated internal token is the same.
        "SHOP_VAR_DIR": str(tmp / "var"),
        "MONOLITH_URL": urls["monolith"],
        "CATALOG_URL": urls["catalog"],
        # Each thread keeps a database connection open (CONN_MAX_AGE): few threads keep both
        # backends far below a PostgreSQL server's max_connections that other work shares.
        "GUNICORN_THREADS": str(threads),
    }
    with (
        LiveBackend(
            name="shadow_monolith",
            env=shared,
            products=products,
            workers=workers,
            port=ports["monolith"],
        ) as monolith,
        LiveBackend(
            name="shadow_catalog",
            project=CATALOG,
            env=shared,
            workers=workers,
            port=ports["catalog"],
        ) as catalog,
        RunningProxy(
            tmp / "proxy",
            backends={
                "monolith": urls["monolith"],
                "auth": urls["monolith"],
                "catalog": urls["catalog"],
                "orders": urls["monolith"],
            },
            env={"PROXY_WORKERS": proxy_workers},
        ) as proxy,
    ):
        cli = Shop(
            public_url=proxy.public_url,
            monolith_url=urls["monolith"],
            auth_url=urls["monolith"],
            cli_env={**os.environ, **monolith.env, **proxy.env},
            monolith=monolith,
            auth=monolith,
        )
        proxy.controller.apply(STEPS["off"])
        backfill = cli.strangle("backfill", "catalog")
        if backfill.returncode != 0:
            raise RuntimeError(f"strangle backfill catalog failed: {backfill.stderr.strip()}")
        log(backfill.stdout.strip().replace("\n", "; "))
        with httpx.Client(base_url=monolith.base_url or "", timeout=30.0) as client:
            ids = all_product_ids(client)
        with httpx.Client(base_url=catalog.base_url or "", timeout=30.0) as client:
            copied = len(all_product_ids(client))
        if copied != len(ids):
            raise RuntimeError(f"the catalog holds {copied} products, the monolith {len(ids)}")
        ids_file = tmp / "product-ids.txt"
        ids_file.write_text("\n".join(str(product_id) for product_id in ids) + "\n")
        yield ShadowShop(proxy=proxy, cli=cli, ids_file=ids_file)


def drain(shop: ShadowShop) -> dict:
    """The shadow log once no copy is in flight (or DRAIN_TIMEOUT passed)."""
    admin = shop.proxy.controller.admin()
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while admin.shadow_log(limit=0)["inflight"] > 0 and time.monotonic() < deadline:
        time.sleep(DRAIN_POLL)
    return admin.shadow_log(limit=LOG_LIMIT)


def read_shadow(shop: ShadowShop, endpoint: Endpoint) -> ShadowLog:
    counts = shadow_log_counts(drain(shop))
    return with_report(counts, shop.strangle_json("shadow-report"), route=endpoint.route)


def run_load(shop: ShadowShop, *, endpoint: Endpoint, load: WrkLoad, scenario: str):
    per_id = "%s" in endpoint.path
    return run_wrk(
        scenario=scenario,
        url=shop.proxy.public_url + ("/" if per_id else endpoint.path),
        load=load,
        path_template=endpoint.path if per_id else None,
        ids_file=shop.ids_file if per_id else None,
    )


def access_log_since(path: Path, offset: int) -> list[dict]:
    """The proxy's access log entries written after byte `offset` (nginx buffers them for
    ACCESS_LOG_FLUSH)."""
    time.sleep(ACCESS_LOG_FLUSH)
    with path.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().splitlines()
    entries = []
    for line in lines:
        with contextlib.suppress(ValueError):
            entries.append(json.loads(line))
    return entries


def run_window(
    shop: ShadowShop, *, round_index: int, shape: LoadShape, endpoint: Endpoint, condition: str
) -> Window:
    if condition == ON:
        shop.proxy.controller.admin().clear_shadow_log()
    access_log = shop.proxy.site.access_log
    # Lines the previous window left in nginx's buffer may land after this offset: they are
    # of another step or route, which proxy_times() leaves out.
    offset = access_log.stat().st_size if access_log.exists() else 0
    result = run_load(
        shop,
        endpoint=endpoint,
        load=shape.load,
        scenario=f"{endpoint.name} ({shape.name}, shadow {condition})",
    )
    times = proxy_times(
        access_log_since(access_log, offset), step=STEPS[condition], route=endpoint.route
    )
    shadow = read_shadow(shop, endpoint) if condition == ON else None
    window = Window(
        round=round_index,
        load=shape.name,
        endpoint=endpoint.name,
        condition=condition,
        result=result,
        shadow=shadow,
        proxy=times,
        load_average=os.getloadavg()[0],
    )
    copies = (
        f", {shadow.answered} shadow answers logged, {shadow.dropped} dropped" if shadow else ""
    )
    own = f", proxy's own p99 {times.own_p99_ms:.0f} ms" if times else ""
    log(
        f"round {round_index + 1}: {result.scenario}: {result.requests_per_s:.0f} req/s, "
        f"p99 {result.p99_ms:.1f} ms, p99.9 {result.p999_ms or 0.0:.1f} ms, "
        f"{result.errors} errors{own}{copies}"
    )
    return window


def warm_up(shop: ShadowShop, *, shapes: list[LoadShape], seconds: int) -> None:
    """Every process warm (gunicorn workers, database caches, the catalog service too), with
    the shadow on; nothing recorded."""
    shop.set_shadow(ON)
    for endpoint in ENDPOINTS:
        load = WrkLoad(
            threads=shapes[0].load.threads,
            connections=shapes[0].load.connections,
            duration_s=seconds,
            max_requests=shapes[0].load.max_requests,
        )
        run_load(shop, endpoint=endpoint, load=load, scenario=f"warm-up {endpoint.name}")
    drain(shop)


def measure(shop: ShadowShop, *, rounds: int, shapes: list[LoadShape]) -> list[Window]:
    """Off and on back to back for each load and endpoint: the two windows of a pair see the
    same machine (other work on it comes and goes), and are compared as a pair."""
    windows = []
    for round_index in range(rounds):
        for shape in shapes:
            for endpoint in ENDPOINTS:
                for condition in conditions_of_round(round_index):
                    shop.set_shadow(condition)
                    windows.append(
                        run_window(
                            shop,
                            round_index=round_index,
                            shape=shape,
                            endpoint=endpoint,
                            condition=condition,
                        )
                    )
    return windows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="each runs off and on once")
    parser.add_argument("--duration", type=int, default=10, help="seconds per window")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per endpoint, unrecorded")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument(
        "--paced-pause-ms",
        type=int,
        default=500,
        help="also run a paced load: each connection waits this long before its next request "
        "(0: only the saturating load)",
    )
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="cap per window")
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per backend")
    parser.add_argument("--gunicorn-threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--proxy-workers", default="1", help="nginx worker_processes")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def load_shapes(args: argparse.Namespace) -> list[LoadShape]:
    def load(pause_ms: int) -> WrkLoad:
        return WrkLoad(
            threads=args.threads,
            connections=args.connections,
            duration_s=args.duration,
            max_requests=args.max_requests,
            pause_ms=pause_ms,
        )

    shapes = [LoadShape(name="saturating", load=load(0))]
    if args.paced_pause_ms > 0:
        shapes.append(
            LoadShape(
                name=f"paced ({args.paced_pause_ms} ms pauses)", load=load(args.paced_pause_ms)
            )
        )
    return shapes


def settings_of(args: argparse.Namespace, shop: ShadowShop, shapes: list[LoadShape]) -> dict:
    proxy = shop.proxy.controller.plan().proxy
    database = os.environ.get("MONOLITH_DATABASE_URL", "")
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load average at start (1/5/15 min)": load_average(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared by wrk, nginx, "
        "both backends, their database server and whatever else runs (each window's load "
        "average is in the last table)",
        "backends": f"the monolith and the catalog service, each under gunicorn "
        f"(deploy/gunicorn.conf.py, {args.workers} workers x {args.gunicorn_threads} threads), "
        f"{'PostgreSQL' if database.startswith('postgres') else 'SQLite'}, "
        f"{args.products} products, the catalog's copy by `strangle backfill catalog`",
        "proxy": f"nginx {args.proxy_workers} worker(s), shipped plan "
        f"(shadow_concurrency {proxy.shadow_concurrency}, shadow_timeout "
        f"{proxy.shadow_timeout}), steps pushed by the controller",
        "loads": "; ".join(
            f"{shape.name}: wrk {shape.load.threads} threads, {shape.load.connections} "
            f"keep-alive connections"
            + (
                f", {shape.load.pause_ms} ms pause before each request"
                if shape.load.pause_ms
                else ""
            )
            for shape in shapes
        ),
        "windows": f"{args.duration} s each, {args.rounds} rounds of off and on "
        f"(order swapped every other round), after a {args.warmup} s warm-up per endpoint",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    shapes = load_shapes(args)
    with (
        tempfile.TemporaryDirectory(prefix="strangler-shadow-bench-") as tmp,
        shadow_shop(
            Path(tmp),
            products=args.products,
            workers=args.workers,
            threads=args.gunicorn_threads,
            proxy_workers=args.proxy_workers,
        ) as shop,
    ):
        settings = settings_of(args, shop, shapes)
        warm_up(shop, shapes=shapes, seconds=args.warmup)
        windows = measure(shop, rounds=args.rounds, shapes=shapes)
        settings["load average at the end (1/5/15 min)"] = load_average()
    comparisons = compare(windows)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(settings=settings, comparisons=comparisons, windows=windows)
    (args.output_dir / "shadow.md").write_text(markdown)
    (args.output_dir / "shadow.json").write_text(
        to_json(settings=settings, comparisons=comparisons, windows=windows)
    )
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
