"""Benchmark the data sync between the monolith and the auth service (PostgreSQL, Redis).

    .venv/bin/python -m bench.sync_bench            # or: make sync-bench

Starts the monolith and the auth service side by side (tests.support.live.LiveBackend), each on
a fresh PostgreSQL database named after --database-url (shop_e_sync_live_*; dropped at the
end), with its gunicorn, the Celery consumer of its sync queue and its outbox relay, sharing one
key directory and a Redis broker (database 8 by default). Then:

1. Backfill throughput: --users users are written straight into the monolith's table (one bulk
   INSERT through `manage.py shell -c`, one precomputed PBKDF2 hash, no outbox events: the data
   a monolith holds before its sync starts), copied into the auth service with
   strangler.sync.backfill (what `strangle backfill auth` runs), then parity is checked (what
   `strangle parity auth` runs). Both are timed.
2. Sync lag: for each rate of --rates, an open-loop write load (registrations/s through the
   monolith's API for --duration s); then each outbox row's created_at on the monolith is joined
   on event_id with the inbox row's applied_at on the auth service: p50/p90/p99/max, and per
   5 s window (a lag growing window after window is a backlog). Parity is checked again.

Results: bench/results/sync.md and sync.json. Exits 1 if parity is not clean, an event was not
applied or more than 1% of the registrations failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from django.conf import settings

from bench.open_loop import OpenLoopLoad, run_open_loop
from bench.sync_lag import measure_lag, outbox_high_water
from bench.sync_report import BackfillFigures, LagPhase, ParityFigures, SyncReport
from strangler.sync.backfill import backfill
from strangler.sync.client import BackendSync
from strangler.sync.flip import check_parity, synced_aggregates
from tests.support.live import AUTH, MONOLITH, REPO_ROOT, LiveBackend, free_port

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shop_e_sync"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/8"
PASSWORD = "bench-pass-1234"
LAG_WAIT_S = 180.0
SETTLE_S = 5.0  # between two loads, so one's backlog and CPU use do not spill into the next
# LiveBackend's relay polls the outbox this often when idle (tests/support/live.py).
RELAY_INTERVAL_S = 0.05

# Runs inside the monolith (`manage.py shell -c`): one INSERT ... SELECT of `count` users with a
# single password hash computed once, joined a minute apart. Rows written this way have no
# outbox events, like the data that exists before a sync is switched on.
INSERT_USERS = """
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from accounts.models import User

count = {count}
password = make_password({password!r}, hasher="pbkdf2_sha256")
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute(
        f"INSERT INTO {{User._meta.db_table}} "
        "(password, is_superuser, email, name, is_staff, is_active, date_joined) "
        "SELECT %s, false, 'bench-' || g || '@example.com', 'Bench user ' || g, false, true, "
        "now() - make_interval(mins => %s - g) FROM generate_series(1, %s) AS g",
        [password, count, count],
    )
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_SYNC_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL whose database name prefixes the backends' databases "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_SYNC_BROKER_URL", DEFAULT_BROKER_URL),
        help="Redis broker; its sync.* queues are purged first (default: %(default)s)",
    )
    parser.add_argument("--users", type=int, default=100_000, help="users to backfill")
    parser.add_argument("--batch", type=int, default=1000, help="backfill rows per call")
    parser.add_argument("--id-gap", type=int, default=1000, help="backfill's sequence gap")
    parser.add_argument(
        "--rates",
        type=_rates,
        default=(5.0, 10.0, 20.0),
        help="registrations per second, one load per rate, comma separated (default: 5,10,20)",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per load")
    parser.add_argument("--load-workers", type=int, default=16, help="load generator threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per backend")
    parser.add_argument(
        "--production-hasher",
        action="store_true",
        help="register with the production PBKDF2 hasher (0.3 s of CPU each; lower --rates)",
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.users < 1 or args.batch < 1 or args.duration <= 0:
        parser.error("--users, --batch and --duration must be positive")
    return args


def _rates(text: str) -> tuple[float, ...]:
    rates = tuple(float(part) for part in text.split(",") if part.strip())
    if not rates or min(rates) <= 0:
        raise argparse.ArgumentTypeError("rates must be positive numbers, comma separated")
    return rates


def log(message: str) -> None:
    print(f"[sync-bench] {message}", file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the backends are stopped and their databases dropped."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def configure_django() -> None:
    # strangler.sync's client reads STRANGLER_INTERNAL_TOKEN from the settings of the caller.
    if not settings.configured:
        settings.configure(STRANGLER_INTERNAL_TOKEN=os.environ.get("STRANGLER_INTERNAL_TOKEN", ""))


def purge_sync_queues(broker_url: str) -> int:
    """Messages left in the bench's sync queues by an interrupted run would be applied to the
    fresh databases; drop them (the queue keys only, with their priority variants)."""
    client = redis.Redis.from_url(broker_url)
    try:
        keys = list(client.scan_iter(match="sync.*"))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()


def redis_version(broker_url: str) -> str:
    client = redis.Redis.from_url(broker_url)
    try:
        return str(client.info("server")["redis_version"])
    finally:
        client.close()


def server_version(database_url: str) -> str:
    # The base database itself is never created: ask the server's maintenance database.
    maintenance = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    with psycopg.connect(maintenance) as conn:
        return str(conn.execute("SHOW server_version").fetchone()[0])


# -- phase 1: backfill ------------------------------------------------------------------------
def insert_users(monolith: LiveBackend, count: int) -> float:
    started = time.perf_counter()
    monolith.manage("shell", "-c", INSERT_USERS.format(count=count, password=PASSWORD))
    return time.perf_counter() - started


@dataclass
class TimedBackendSync(BackendSync):
    """A backend's sync API that adds up the time its backfill calls take: reading pages from
    the source, storing them in the target."""

    read_s: float = 0.0
    write_s: float = 0.0

    def rows(self, aggregate: str, *, after: int, limit: int) -> dict:
        started = time.perf_counter()
        try:
            return super().rows(aggregate, after=after, limit=limit)
        finally:
            self.read_s += time.perf_counter() - started

    def upsert(self, aggregate: str, rows: list[dict]) -> int:
        started = time.perf_counter()
        try:
            return super().upsert(aggregate, rows)
        finally:
            self.write_s += time.perf_counter() - started


def run_backfill(
    source: TimedBackendSync, target: TimedBackendSync, *, args, scratch: Path
) -> BackfillFigures:
    figures = BackfillFigures(batch=args.batch)
    aggregates = synced_aggregates(source, "auth")
    started = time.perf_counter()
    last_report = [started]

    def progress(aggregate: str, copied: int, total: int) -> None:
        now = time.perf_counter()
        if aggregate == "user":
            figures.users_s = now - started
        if now - last_report[0] >= 10 or copied == total:
            last_report[0] = now
            log(f"backfill {aggregate}: {copied}/{total} rows, {now - started:.0f}s")

    result = backfill(
        domain="auth",
        aggregates=aggregates,
        source=source,
        target=target,
        checkpoint_file=scratch / "backfill-auth.json",
        batch=args.batch,
        id_gap=args.id_gap,
        on_progress=progress,
    )
    figures.wall_s = time.perf_counter() - started
    figures.read_s, figures.write_s = source.read_s, target.write_s
    figures.copied = dict(result.copied)
    figures.sequences = dict(result.sequences)
    return figures


def run_parity(source: BackendSync, target: BackendSync, *, when: str) -> ParityFigures:
    started = time.perf_counter()
    results = check_parity(domain="auth", left=source, right=target)
    return ParityFigures(
        when=when,
        clean=all(r.clean for r in results),
        seconds=time.perf_counter() - started,
        counts={r.aggregate: [r.left_count, r.right_count] for r in results},
        suspects={r.aggregate: sorted(r.suspects)[:20] for r in results if not r.clean},
    )


# -- phase 2: sync lag ------------------------------------------------------------------------
def registration(run: str):
    def request(number: int) -> tuple[str, str, dict, int]:
        body = {
            "email": f"lag-{run}-{number}@example.com",
            "password": PASSWORD,
            "name": f"Lag {number}",
        }
        return "POST", "/api/auth/register", body, 201

    return request


def run_lag_phase(
    monolith: LiveBackend, auth: LiveBackend, *, rate: float, args: argparse.Namespace
) -> LagPhase:
    load_average = os.getloadavg()[0]
    high_water = outbox_high_water(monolith.database_url)
    load = run_open_loop(
        base_url=monolith.base_url,
        load=OpenLoopLoad(rate=rate, duration_s=args.duration, workers=args.load_workers),
        request=registration(uuid.uuid4().hex[:8]),
    )
    lag, drain_s = measure_lag(
        writer_url=monolith.database_url,
        reader_url=auth.database_url,
        after_id=high_water,
        timeout_s=LAG_WAIT_S,
    )
    return LagPhase(
        rate=rate,
        duration_s=args.duration,
        load_average=load_average,
        load=load,
        lag=lag,
        drain_s=drain_s,
    )


# -- main -------------------------------------------------------------------------------------
def backend_env(args: argparse.Namespace, *, var_dir: Path, urls: dict[str, str]) -> dict:
    return {
        # One JWT key file for both backends, as in production (shared key material).
        "SHOP_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": args.broker_url,
        "MONOLITH_URL": urls["monolith"],
        "AUTH_URL": urls["auth"],
    }


def monolith_env(args: argparse.Namespace) -> dict:
    if args.production_hasher:
        return {}
    # bench.sync_settings must be importable from gunicorn's and Celery's working directories.
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return {"DJANGO_SETTINGS_MODULE": "bench.sync_settings", "PYTHONPATH": python_path}


def describe(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        "shared by both backends, their workers, PostgreSQL, Redis and the load generator",
        # Other work on the machine skews every figure; the load before the run tells how much.
        "load average at start (1/5/15 min)": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "database": f"PostgreSQL {server_version(args.database_url)}, one database per backend",
        "broker": f"Redis {redis_version(args.broker_url)} ({args.broker_url})",
        "backends": f"monolith and auth service, gunicorn {args.workers} workers x 4 threads "
        f"each; per backend one Celery consumer (concurrency 1) and one outbox relay "
        f"(idle poll {RELAY_INTERVAL_S} s, 200 rows per batch)",
        "write load": f"{', '.join(f'{r:g}' for r in args.rates)} registrations/s, "
        f"{args.duration:g} s each (open loop, {args.load_workers} threads), "
        "POST /api/auth/register on the monolith",
        "password hasher during the load": "production PBKDF2 (1,000,000 iterations)"
        if args.production_hasher
        else "MD5 (bench.sync_settings): PBKDF2 at 0.3 s of CPU per registration would need "
        "6 cores at 20/s; the backfilled users have a PBKDF2 hash",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    configure_django()
    # LiveBackend derives each backend's database from these (<name>_live_<backend>).
    os.environ["MONOLITH_DATABASE_URL"] = args.database_url
    os.environ["AUTH_DATABASE_URL"] = args.database_url
    report = SyncReport(settings=describe(args))
    purged = purge_sync_queues(args.broker_url)
    if purged:
        log(f"purged {purged} leftover sync queue(s) from {args.broker_url}")

    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("monolith", "auth")}
    with tempfile.TemporaryDirectory(prefix="shop-sync-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        shared = backend_env(args, var_dir=scratch / "var", urls=urls)
        log("starting the monolith and the auth service (migrate, gunicorn, consumer, relay)")
        with (
            LiveBackend(
                name="e_monolith",
                project=MONOLITH,
                env={**shared, **monolith_env(args)},
                products=20,
                workers=args.workers,
                sync=True,
                port=int(urls["monolith"].rsplit(":", 1)[1]),
            ) as monolith,
            LiveBackend(
                name="e_auth",
                project=AUTH,
                env=shared,
                workers=args.workers,
                sync=True,
                port=int(urls["auth"].rsplit(":", 1)[1]),
            ) as auth,
        ):
            source = TimedBackendSync("monolith", monolith.base_url, timeout=300.0)
            target = TimedBackendSync("auth", auth.base_url, timeout=300.0)

            log(f"inserting {args.users} users into the monolith's database")
            insert_s = insert_users(monolith, args.users)
            log(f"backfilling into the auth service, {args.batch} rows per call")
            report.backfill = run_backfill(source, target, args=args, scratch=scratch)
            report.backfill.users_inserted = args.users
            report.backfill.insert_s = insert_s
            log(f"backfill done in {report.backfill.wall_s:.1f}s; checking parity")
            report.parity.append(run_parity(source, target, when="after backfill"))

            for number, rate in enumerate(args.rates):
                if number:
                    time.sleep(SETTLE_S)
                log(f"write load: {rate:g} registrations/s for {args.duration:g}s")
                phase = run_lag_phase(monolith, auth, rate=rate, args=args)
                report.lag_phases.append(phase)
                e2e = phase.lag.end_to_end
                log(
                    f"{phase.lag.applied}/{phase.lag.events} events applied; lag p50 "
                    f"{e2e.p50_ms if e2e else '-'} ms, p99 {e2e.p99_ms if e2e else '-'} ms"
                )
            report.parity.append(run_parity(source, target, when="after the write loads"))
        log("backends stopped, databases dropped")

    print(report.to_markdown())
    markdown, machine = report.write(args.output_dir)
    log(f"written {markdown} and {machine}")
    problems = report.failures()
    for problem in problems:
        log(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
