"""Benchmark the data sync between the monolith and the auth service (PostgreSQL, Redis).

    .venv/bin/python -m bench.sync_bench            # or: make sync-bench

Starts the monolith and the auth service side by side (tests.support.live.LiveBackend), each on
a fresh PostgreSQL database named after --database-url (shop_e_sync_live_*; dropped at the
end), with its gunicorn, one Celery consumer per sync partition and its outbox relay, sharing one
key directory and a Redis broker (database 8 by default). Then:

1. Backfill: --users users are written straight into the monolith's table (one INSERT ...
   SELECT, no outbox events: the data a monolith holds before its sync starts), copied into the
   auth service with strangler.sync.backfill (what `strangle backfill auth` runs, --batch rows
   per call), then parity is checked.
2. Parity: --parity-rows refresh tokens, the same rows with the same ids, are written by SQL into
   both databases (the *_refreshtoken table of each); then the domain's parity is timed
   (strangler.sync.parity.compare per aggregate, as `strangle parity auth` runs it).
3. Sync throughput: bench/sync_generator.py, --processes processes of their own on the
   monolith's settings and database, calls accounts.services in-process at a fixed rate of
   events/s (refresh-token rotations over --chains pre-issued chains, 2 events each, spread over
   the partitions), open loop, for each rate of --rates (--headline-duration s at the headline
   rate 200/s, --duration s for the others). Each outbox row's created_at (monolith) is joined
   on event_id with the inbox row's applied_at (auth): lag p50/p90/p99/max. Then up to
   --search-steps more rates narrow down the highest rate carried with lag p99 < 1 s.
4. HTTP writes: bench.write_load.WriteLoad, closed loop with no pause, against the monolith's
   API with each client count of --http-clients: write events/s achieved and their lag.
5. Handover: under a WriteLoad of --handover-clients clients through the monolith's URL,
   strangler.sync.flip.hand_over --flips times, alternating monolith -> auth and back: the
   write pause of each. Then both directions' events are checked applied, and parity again.

During each load of 3 and 4, bench/sync_cpu.py records the CPU each component used (from /proc),
the PostgreSQL sessions opened on each database and what the active sessions waited on; during
5, how long each of hand_over's calls took: where the time goes, beside what it amounts to.

Results: bench/results/sync.md and sync.json (with the previous design's figures beside them).
Exits 1 if a parity is not clean, an event was not applied, more than 1% of the generator's
writes failed or a handover was refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from django.conf import settings

from bench.sync_cpu import CpuMeter
from bench.sync_generator import Generator
from bench.sync_lag import measure_lag, outbox_high_water
from bench.sync_report import (
    LAG_P99_LIMIT_MS,
    TARGETS,
    BackfillFigures,
    Flip,
    HandoverFigures,
    HttpPhase,
    ParityFigures,
    SyncReport,
    ThroughputPhase,
)
from bench.sync_seed import insert_tokens_both
from bench.write_load import WriteLoad
from strangler.sync.backfill import backfill
from strangler.sync.client import BackendSync, RowsPage, SyncError
from strangler.sync.flip import DomainMove, check_parity, hand_over, synced_aggregates
from strangler.sync.parity import compare
from tests.support.live import AUTH, MONOLITH, REPO_ROOT, LiveBackend, free_port

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shop_e_sync"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/8"
PASSWORD = "bench-pass-1234"
DOMAIN = "auth"
LAG_WAIT_S = 300.0
SETTLE_S = 5.0  # between two loads, so one's backlog and CPU use do not spill into the next
# LiveBackend's relay: `manage.py sync_relay --interval 0.05` (tests/support/live.py), whose
# default batch is 500 rows.
RELAY_INTERVAL_S = 0.05
RELAY_BATCH = 500
INTERNAL_TIMEOUT_S = 900.0  # a checksum call over a million rows takes a while
PHASES = ("parity", "throughput", "http", "handover")

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
    parser.add_argument("--batch", type=int, default=10_000, help="backfill rows per call")
    parser.add_argument("--id-gap", type=int, default=1000, help="sequence gap (backfill, flip)")
    parser.add_argument(
        "--parity-rows",
        type=int,
        default=1_000_000,
        help="refresh tokens written into both databases before parity is timed (0: skip)",
    )
    parser.add_argument(
        "--rates",
        type=_rates,
        default=(50.0, 100.0, 200.0, 400.0),
        help="events per second of the in-process generator, one load each, comma separated "
        "(default: 50,100,200,400)",
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds per load (default: %(default)s)"
    )
    parser.add_argument(
        "--headline-duration",
        type=float,
        default=60.0,
        help=f"seconds of the load at {TARGETS['headline_rate']:g} events/s (default: %(default)s)",
    )
    parser.add_argument(
        "--search-steps",
        type=int,
        default=3,
        help="extra loads narrowing down the highest rate with lag p99 < 1 s (default: 3)",
    )
    parser.add_argument(
        "--kind",
        choices=("rotate", "rename"),
        default="rotate",
        help="generator writes: refresh-token rotations (2 events) or user renames (1 event)",
    )
    parser.add_argument("--chains", type=int, default=2000, help="token chains (users written)")
    parser.add_argument(
        "--processes", type=int, default=2, help="generator processes (default: %(default)s)"
    )
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per generator process (default: 4)"
    )
    parser.add_argument(
        "--http-clients",
        type=_counts,
        default=(4, 8, 16),
        help="WriteLoad clients, one closed-loop load each, comma separated (default: 4,8,16)",
    )
    parser.add_argument(
        "--http-duration", type=float, default=20.0, help="seconds per HTTP load (default: 20)"
    )
    parser.add_argument("--flips", type=int, default=10, help="handovers (default: 10)")
    parser.add_argument(
        "--handover-clients", type=int, default=4, help="WriteLoad clients during the handovers"
    )
    parser.add_argument("--handover-timeout", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per backend")
    parser.add_argument(
        "--skip",
        type=lambda text: tuple(p for p in text.split(",") if p),
        default=(),
        help=f"phases to leave out, comma separated, among {', '.join(PHASES)}",
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.users < 1 or args.batch < 1 or args.duration <= 0 or args.chains < 1:
        parser.error("--users, --batch, --chains and --duration must be positive")
    unknown = set(args.skip) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases for --skip: {', '.join(sorted(unknown))}")
    return args


def _rates(text: str) -> tuple[float, ...]:
    rates = tuple(float(part) for part in text.split(",") if part.strip())
    if not rates or min(rates) <= 0:
        raise argparse.ArgumentTypeError("rates must be positive numbers, comma separated")
    return rates


def _counts(text: str) -> tuple[int, ...]:
    counts = tuple(int(part) for part in text.split(",") if part.strip())
    if min(counts, default=1) < 1:
        raise argparse.ArgumentTypeError("client counts must be positive integers")
    return counts


def log(message: str) -> None:
    print(f"[sync-bench] {message}", file=sys.stderr, flush=True)


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the backends are stopped and their databases dropped."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


# The internal token of the bench's backends and of its own sync client (below).
INTERNAL_TOKEN = os.environ.get("STRANGLER_INTERNAL_TOKEN") or secrets.token_urlsafe(32)


def configure_django() -> None:
    # strangler.sync's client reads STRANGLER_INTERNAL_TOKEN from the settings of the caller.
    if not settings.configured:
        settings.configure(STRANGLER_INTERNAL_TOKEN=INTERNAL_TOKEN)


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


def cpu_meter(monolith: LiveBackend, auth: LiveBackend) -> CpuMeter:
    """CPU per component and new database sessions during a load (bench.sync_cpu)."""
    databases = {
        urlsplit(monolith.database_url).path.lstrip("/"): "monolith",
        urlsplit(auth.database_url).path.lstrip("/"): "auth",
    }
    admin_url = urlunsplit(urlsplit(monolith.database_url)._replace(path="/postgres"))
    return CpuMeter(databases, admin_url)


def settle() -> None:
    time.sleep(SETTLE_S)


# -- backfill and parity ----------------------------------------------------------------------
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

    def page(self, aggregate: str, *, after: int, limit: int) -> RowsPage:
        started = time.perf_counter()
        try:
            return super().page(aggregate, after=after, limit=limit)
        finally:
            self.read_s += time.perf_counter() - started

    def store_page(self, aggregate: str, page: RowsPage) -> int:
        started = time.perf_counter()
        try:
            return super().store_page(aggregate, page)
        finally:
            self.write_s += time.perf_counter() - started


@dataclass
class RecordingBackendSync(BackendSync):
    """A backend's sync API that records how long each call takes, by kind of call (the
    domain's name left out): where a handover's pause goes."""

    calls: list[tuple[str, float]] = field(default_factory=list)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        started = time.perf_counter()
        try:
            return super()._call(method, path, **kwargs)
        finally:
            kind = f"{self.name}: {method} {path.replace(f'/{DOMAIN}/', '/<domain>/')}"
            self.calls.append((kind, time.perf_counter() - started))

    def take_calls(self) -> list[tuple[str, float]]:
        calls, self.calls = self.calls, []
        return calls


def run_backfill(
    source: TimedBackendSync, target: TimedBackendSync, *, args, scratch: Path
) -> BackfillFigures:
    figures = BackfillFigures(batch=args.batch)
    aggregates = synced_aggregates(source, DOMAIN)
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
        domain=DOMAIN,
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


def run_parity(
    source: BackendSync, target: BackendSync, *, when: str, setup: str = ""
) -> ParityFigures:
    """Times strangler.sync.parity.compare per aggregate of the domain (the first pass of
    `strangle parity auth`); if anything differs, check_parity's rechecks give the verdict (a
    change in flight is not a difference)."""
    seconds_by_aggregate: dict[str, float] = {}
    results = []
    started = time.perf_counter()
    for aggregate in synced_aggregates(source, DOMAIN):
        begun = time.perf_counter()
        results.append(compare(aggregate=aggregate, left=source, right=target))
        seconds_by_aggregate[aggregate] = round(time.perf_counter() - begun, 2)
    seconds = time.perf_counter() - started
    if not all(r.clean for r in results):
        log(f"parity {when}: differences, rechecking")
        results = check_parity(domain=DOMAIN, left=source, right=target)
    figures = ParityFigures(
        when=when,
        clean=all(r.clean for r in results),
        seconds=seconds,
        counts={r.aggregate: [r.left_count, r.right_count] for r in results},
        suspects={r.aggregate: sorted(r.suspects)[:20] for r in results if not r.clean},
        seconds_by_aggregate=seconds_by_aggregate,
        setup=setup,
    )
    log(
        f"parity {when}: {'clean' if figures.clean else 'DIFFERS'}, {figures.rows} rows in "
        f"{seconds:.1f}s ({figures.rows_per_s:.0f} rows/s; {seconds_by_aggregate})"
    )
    return figures


# -- sync throughput (in-process generator) ---------------------------------------------------
def run_throughput_phase(
    generator: Generator,
    monolith: LiveBackend,
    auth: LiveBackend,
    *,
    rate: float,
    duration: float,
    args: argparse.Namespace,
    search: bool = False,
) -> ThroughputPhase:
    load_average = os.getloadavg()[0]
    high_water = outbox_high_water(monolith.database_url)
    log(f"in-process writes: {rate:g} events/s for {duration:g}s ({args.kind})")
    with cpu_meter(monolith, auth) as meter:
        figures = generator.run(rate=rate, duration=duration, kind=args.kind, threads=args.threads)
    lag, drain_s = measure_lag(
        writer_url=monolith.database_url,
        reader_url=auth.database_url,
        after_id=high_water,
        timeout_s=LAG_WAIT_S,
    )
    phase = ThroughputPhase(
        rate=rate,
        duration_s=duration,
        kind=args.kind,
        load_average=load_average,
        generator=figures,
        lag=lag,
        drain_s=drain_s,
        search=search,
        cpu=meter.result.to_dict(),
    )
    e2e = lag.end_to_end
    log(
        f"{rate:g}/s: achieved {phase.achieved:.1f} events/s ({figures['errors']} failed), "
        f"{lag.applied}/{lag.events} applied; lag p50 {e2e.p50_ms if e2e else '-'} ms, p99 "
        f"{e2e.p99_ms if e2e else '-'} ms; {'carried' if phase.sustained else 'NOT carried'}"
    )
    return phase


def next_search_rate(phases: list[ThroughputPhase]) -> float | None:
    """Bisects between the highest rate carried and the lowest higher one that was not (or
    doubles the highest when every rate was carried); None when the gap is under 10%."""
    carried = [p.rate for p in phases if p.sustained]
    low = max(carried, default=0.0)
    failed = [p.rate for p in phases if not p.sustained and p.rate > low]
    if not failed:
        return low * 2 if low else None
    high = min(failed)
    if high - low <= max(10.0, 0.1 * high):
        return None
    middle = (low + high) / 2
    return float(round(middle / 10) * 10) if middle >= 20 else round(middle, 1)


def run_throughput(report: SyncReport, monolith: LiveBackend, auth: LiveBackend, *, args) -> None:
    with Generator(
        env=monolith.env, log_path=monolith.log_path, processes=args.processes
    ) as generator:
        high_water = outbox_high_water(monolith.database_url)
        log(f"issuing {args.chains} refresh-token chains in-process")
        report.prepare = generator.prepare(chains=args.chains)
        lag, drain_s = measure_lag(
            writer_url=monolith.database_url,
            reader_url=auth.database_url,
            after_id=high_water,
            timeout_s=LAG_WAIT_S,
        )
        report.prepare.update(
            {"applied": lag.applied, "missing": lag.missing, "drained_after_s": round(drain_s, 2)}
        )
        log(f"chains issued in {report.prepare['seconds']}s, {lag.applied}/{lag.events} synced")
        for rate in args.rates:
            settle()
            duration = args.headline_duration if rate == TARGETS["headline_rate"] else args.duration
            report.throughput.append(
                run_throughput_phase(
                    generator, monolith, auth, rate=rate, duration=duration, args=args
                )
            )
        for _ in range(args.search_steps):
            rate = next_search_rate(report.throughput)
            if rate is None:
                break
            settle()
            report.throughput.append(
                run_throughput_phase(
                    generator,
                    monolith,
                    auth,
                    rate=rate,
                    duration=args.duration,
                    args=args,
                    search=True,
                )
            )


# -- HTTP writes ------------------------------------------------------------------------------
def run_http_phase(
    monolith: LiveBackend, auth: LiveBackend, *, clients: int, args: argparse.Namespace
) -> HttpPhase:
    load_average = os.getloadavg()[0]
    high_water = outbox_high_water(monolith.database_url)
    log(f"HTTP writes: {clients} closed-loop clients for {args.http_duration:g}s")
    started = time.monotonic()
    # register_every: the clients register once (a registration hashes a password); after that
    # every second request is a refresh-token rotation.
    with (
        cpu_meter(monolith, auth) as meter,
        WriteLoad(monolith.base_url, clients=clients, pause=0.0, register_every=1e9) as load,
    ):
        time.sleep(args.http_duration)
    wall_s = time.monotonic() - started
    lag, drain_s = measure_lag(
        writer_url=monolith.database_url,
        reader_url=auth.database_url,
        after_id=high_water,
        timeout_s=LAG_WAIT_S,
    )
    phase = HttpPhase(
        clients=clients,
        duration_s=round(wall_s, 2),
        load_average=load_average,
        load=load.report.summary(),
        lag=lag,
        drain_s=drain_s,
        cpu=meter.result.to_dict(),
    )
    e2e = lag.end_to_end
    log(
        f"{clients} clients: {phase.events_per_s:.1f} write events/s, "
        f"{phase.load['failed']} failed requests, {lag.applied}/{lag.events} applied; lag p99 "
        f"{e2e.p99_ms if e2e else '-'} ms"
    )
    return phase


# -- handover ---------------------------------------------------------------------------------
def run_handovers(monolith: LiveBackend, auth: LiveBackend, *, args) -> HandoverFigures:
    backends = {
        "monolith": RecordingBackendSync("monolith", monolith.base_url, timeout=30.0),
        "auth": RecordingBackendSync("auth", auth.base_url, timeout=30.0),
    }
    databases = {"monolith": monolith.database_url, "auth": auth.database_url}
    high_water = {name: outbox_high_water(url) for name, url in databases.items()}
    figures = HandoverFigures(clients=args.handover_clients)
    owner = backends["monolith"].ownership(DOMAIN).owner
    log(f"handovers: {args.flips} flips under {args.handover_clients} writing clients")
    started = time.monotonic()
    with WriteLoad(monolith.base_url, clients=args.handover_clients, register_every=1e9) as load:
        time.sleep(2.0)  # the clients register and log in
        for _ in range(args.flips):
            old = backends[owner]
            new = backends["auth" if owner == "monolith" else "monolith"]
            after_id = old.status().outbox.last_id
            flip = Flip(old=old.name, new=new.name, after_id=after_id, pause_s=None)
            for backend in backends.values():
                backend.take_calls()
            try:
                flip.pause_s = hand_over(
                    DomainMove(DOMAIN, old=old, new=new),
                    after_id=after_id,
                    timeout=args.handover_timeout,
                    id_gap=args.id_gap,
                )
                owner = new.name
            except SyncError as error:
                flip.error = str(error)[:300]
            for backend in backends.values():
                role = "old owner" if backend is old else "new owner"
                for call, seconds in backend.take_calls():
                    kind = f"{role}: {call.split(': ', 1)[1]}"
                    flip.calls_ms[kind] = round(flip.calls_ms.get(kind, 0.0) + seconds * 1000, 1)
                    flip.call_counts[kind] = flip.call_counts.get(kind, 0) + 1
            figures.flips.append(flip)
            log(
                f"{old.name} -> {new.name}: "
                + (f"paused {flip.pause_s * 1000:.0f} ms" if flip.error == "" else flip.error)
            )
            time.sleep(1.0)  # the copy catches up before the next flip
    figures.wall_s = time.monotonic() - started
    figures.load = load.report.summary()
    for writer, reader in (("monolith", "auth"), ("auth", "monolith")):
        lag, _ = measure_lag(
            writer_url=databases[writer],
            reader_url=databases[reader],
            after_id=high_water[writer],
            timeout_s=LAG_WAIT_S,
        )
        figures.lags[f"{writer} -> {reader}"] = lag
    pauses = figures.pauses_ms
    if pauses:
        log(f"handover pause p50 {statistics.median(pauses):.0f} ms, max {max(pauses):.0f} ms")
    return figures


# -- main -------------------------------------------------------------------------------------
def backend_env(args: argparse.Namespace, *, var_dir: Path, urls: dict[str, str]) -> dict:
    return {
        # One JWT key file for both backends, as in production (shared key material).
        "SHOP_VAR_DIR": str(var_dir),
        "CELERY_BROKER_URL": args.broker_url,
        "MONOLITH_URL": urls["monolith"],
        "AUTH_URL": urls["auth"],
        "STRANGLER_INTERNAL_TOKEN": INTERNAL_TOKEN,
    }


def bench_settings_env(module: str) -> dict:
    # The bench's settings modules must be importable from gunicorn's and Celery's working
    # directories.
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return {"DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": python_path}


def monolith_env() -> dict:
    # A cheap password hasher for the registrations of the HTTP loads (bench.sync_settings).
    return bench_settings_env("bench.sync_settings")


def describe(args: argparse.Namespace) -> dict[str, Any]:
    from strangler.sync import partitions

    threads = os.environ.get("GUNICORN_THREADS", "16")
    rates = ", ".join(
        f"{r:g}" + (f" ({args.headline_duration:g} s)" if r == TARGETS["headline_rate"] else "")
        for r in args.rates
    )
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        "shared by both backends, their workers, PostgreSQL, Redis and the load generators",
        # Other work on the machine skews every figure; the load before the run tells how much.
        "load average at start (1/5/15 min)": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "database": f"PostgreSQL {server_version(args.database_url)}, one database per backend",
        "broker": f"Redis {redis_version(args.broker_url)} ({args.broker_url})",
        "backends": f"monolith and auth service, gunicorn {args.workers} workers x {threads} "
        f"threads each; per backend {partitions.count()} sync partitions, one Celery consumer "
        f"each (--pool solo), and one outbox relay (idle poll {RELAY_INTERVAL_S} s, "
        f"{RELAY_BATCH} rows per batch)",
        "data": f"{args.users:,} users backfilled (batch {args.batch}); {args.parity_rows:,} "
        "refresh tokens written into both databases by SQL before parity",
        "in-process writes": f"{rates} events/s, {args.duration:g} s each unless noted, "
        f"{args.kind} (accounts.services), {args.chains} chains, {args.processes} processes x "
        f"{args.threads} threads, open "
        f"loop; up to {args.search_steps} more rates searching the highest with lag p99 < "
        f"{LAG_P99_LIMIT_MS:g} ms",
        "HTTP writes": f"WriteLoad, {', '.join(map(str, args.http_clients))} clients, "
        f"{args.http_duration:g} s each, no pause (closed loop), monolith API",
        "handover": f"{args.flips} flips under {args.handover_clients} WriteLoad clients "
        f"(0.05 s pause), timeout {args.handover_timeout:g} s, id gap {args.id_gap}",
        "consumer database connections": "kept between tasks (CELERY_DB_REUSE_MAX, set by the "
        "chassis for every backend)",
        "password hasher": "MD5 on the monolith (bench.sync_settings) for the HTTP loads' "
        "registrations; the backfilled users have a PBKDF2 hash",
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

    started = time.monotonic()
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("monolith", "auth")}
    with tempfile.TemporaryDirectory(prefix="shop-sync-bench-") as scratch_dir:
        scratch = Path(scratch_dir)
        shared = backend_env(args, var_dir=scratch / "var", urls=urls)
        log("starting the monolith and the auth service (migrate, gunicorn, consumers, relay)")
        with (
            LiveBackend(
                name="e_monolith",
                project=MONOLITH,
                env={**shared, **monolith_env()},
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
            source = TimedBackendSync("monolith", monolith.base_url, timeout=INTERNAL_TIMEOUT_S)
            target = TimedBackendSync("auth", auth.base_url, timeout=INTERNAL_TIMEOUT_S)

            log(f"inserting {args.users} users into the monolith's database")
            insert_s = insert_users(monolith, args.users)
            log(f"backfilling into the auth service, {args.batch} rows per call")
            report.backfill = run_backfill(source, target, args=args, scratch=scratch)
            report.backfill.users_inserted = args.users
            report.backfill.insert_s = insert_s
            log(
                f"backfill done in {report.backfill.wall_s:.1f}s "
                f"({report.backfill.users_per_s:.0f} users/s); checking parity"
            )
            report.parity.append(run_parity(source, target, when="after backfill"))

            if "parity" not in args.skip and args.parity_rows > 0:
                log(f"writing {args.parity_rows} refresh tokens into both databases")
                seeded_s = insert_tokens_both(
                    monolith_url=monolith.database_url,
                    auth_url=auth.database_url,
                    count=args.parity_rows,
                )
                report.parity.append(
                    run_parity(
                        source,
                        target,
                        when=f"of {args.parity_rows:,} refresh tokens",
                        setup=f"tokens written into both databases by SQL in {seeded_s:.1f} s",
                    )
                )
            if "throughput" not in args.skip:
                run_throughput(report, monolith, auth, args=args)
            if "http" not in args.skip:
                for clients in args.http_clients:
                    settle()
                    report.http.append(run_http_phase(monolith, auth, clients=clients, args=args))
            if "handover" not in args.skip and args.flips > 0:
                settle()
                report.handover = run_handovers(monolith, auth, args=args)
            log("final parity check")
            report.parity.append(run_parity(source, target, when="after the write loads"))
        log("backends stopped, databases dropped")

    report.settings["wall time"] = f"{(time.monotonic() - started) / 60:.1f} min"
    print(report.to_markdown())
    markdown, machine = report.write(args.output_dir)
    log(f"written {markdown} and {machine}")
    problems = report.failures()
    for problem in problems:
        log(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
