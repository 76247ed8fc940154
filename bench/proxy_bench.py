"""Benchmark the strangler proxy: its overhead, and what a flip under load costs.

    .venv/bin/python -m bench.proxy_bench            # or: make proxy-bench

Seeds a monolith (LiveBackend: PostgreSQL database shop_b_bench when MONOLITH_DATABASE_URL
points at PostgreSQL, else SQLite), serves it with two gunicorns configured like `make up`
(deploy/gunicorn.conf.py: threaded workers that keep connections alive) playing `monolith` and
`catalog`, and runs the shipped plan on real nginx in front of them. Then:

1. Overhead: the same endpoints direct to the monolith and through the proxy, side by side
   (alternating, the order swapped every round), with wrk; reported as proxy/direct ratios of
   requests/s and of p50/p99 latency.
2. Flip under load: wrk with keep-alive connections on a catalog read through the proxy while
   the proxy flips every second, once with `strangle apply` (step table pushed, no reload)
   between 0-monolith and 4-catalog, once with `nginx -s reload` (the issue's measurement).
   Reports requests, failed requests (socket errors and non-2xx) and flips.

Results: bench/results/proxy-overhead.md, bench/results/proxy-flip.md (and .json beside them).
Every load is bounded in time and in requests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.report import ScenarioResult
from bench.wrk_runner import WrkLoad, run_wrk
from tests.migration.harness import REPO_ROOT, RunningProxy, free_port, own_database
from tests.support.live import LiveBackend

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ENDPOINTS = (
    ("products list", "/api/products?page_size=20"),
    ("product detail", "/api/products/1"),
    ("liveness", "/healthz"),
)
FLIP_PATH = "/api/products/1"


@dataclass(frozen=True)
class Ratio:
    endpoint: str
    direct_rps: float
    proxy_rps: float
    direct_p50_ms: float
    proxy_p50_ms: float
    direct_p99_ms: float
    proxy_p99_ms: float
    errors: int

    @property
    def rps_ratio(self) -> float:
        return self.proxy_rps / self.direct_rps if self.direct_rps else 0.0


@dataclass(frozen=True)
class FlipRun:
    mode: str
    requests: int
    failed: int
    flips: int
    seconds: float
    notes: str


class Gunicorn:
    """The monolith served like `make up` serves it, on a free port, with the backend's env."""

    def __init__(self, backend: LiveBackend, *, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**backend.env, "GUNICORN_WORKERS": str(workers)}
        self.log = (REPO_ROOT / "var" / "live" / f"bench-gunicorn-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(REPO_ROOT / ".venv" / "bin" / "gunicorn"),
                "shop.wsgi:application",
                "--chdir",
                str(REPO_ROOT / "monolith"),
                "--config",
                str(REPO_ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn on {self.url} did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def measure_overhead(
    *, direct: str, proxy: str, rounds: int, load: WrkLoad
) -> tuple[list[Ratio], list[dict]]:
    samples: dict[tuple[str, str], list[ScenarioResult]] = {}
    raw = []
    for round_index in range(rounds):
        targets = [("direct", direct), ("proxy", proxy)]
        if round_index % 2:
            targets.reverse()  # cancel drift: neither side always runs first
        for name, path in ENDPOINTS:
            for target, base in targets:
                result = run_wrk(scenario=f"{name} ({target})", url=base + path, load=load)
                samples.setdefault((name, target), []).append(result)
                raw.append({"round": round_index, **asdict(result)})
                print(
                    f"  round {round_index + 1}: {result.scenario}: "
                    f"{result.requests_per_s:.0f} req/s, p99 {result.p99_ms:.1f} ms",
                    flush=True,
                )
    ratios = []
    for name, _ in ENDPOINTS:
        direct_runs, proxy_runs = samples[(name, "direct")], samples[(name, "proxy")]

        def median(runs, field):
            return statistics.median(getattr(run, field) for run in runs)

        ratios.append(
            Ratio(
                endpoint=name,
                direct_rps=median(direct_runs, "requests_per_s"),
                proxy_rps=median(proxy_runs, "requests_per_s"),
                direct_p50_ms=median(direct_runs, "p50_ms"),
                proxy_p50_ms=median(proxy_runs, "p50_ms"),
                direct_p99_ms=median(direct_runs, "p99_ms"),
                proxy_p99_ms=median(proxy_runs, "p99_ms"),
                errors=sum(run.errors for run in direct_runs + proxy_runs),
            )
        )
    return ratios, raw


def flip_under_load(proxy: RunningProxy, *, mode: str, seconds: int, connections: int) -> FlipRun:
    stop = threading.Event()
    flips = []

    def flipper() -> None:
        steps = ("4-catalog", "0-monolith")
        tick = time.monotonic()
        while True:
            tick += 1.0  # a flip a second, however long the previous one took
            if stop.wait(max(0.0, tick - time.monotonic())):
                return
            if mode == "apply":
                proxy.controller.apply(steps[len(flips) % 2])
            else:
                proxy.controller.nginx.reload()
            flips.append(time.monotonic())

    thread = threading.Thread(target=flipper)
    load = WrkLoad(threads=2, connections=connections, duration_s=seconds, max_requests=10_000_000)
    thread.start()
    try:
        result = run_wrk(scenario=f"flip ({mode})", url=proxy.public_url + FLIP_PATH, load=load)
    finally:
        stop.set()
        thread.join()
    if mode == "apply" and proxy.controller.state().step != "0-monolith":
        proxy.controller.apply("0-monolith")
    return FlipRun(
        mode=mode,
        requests=result.requests,
        failed=result.errors,
        flips=len(flips),
        seconds=result.duration_s,
        notes=result.notes,
    )


def write_results(settings: dict, ratios: list[Ratio], raw: list[dict], flips: list[FlipRun]):
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    header = [f"- {key}: {value}" for key, value in settings.items()]
    overhead = [
        "# Proxy overhead: the same endpoints direct and through the strangler proxy",
        "",
        *header,
        "",
        "| endpoint | direct req/s | proxy req/s | req/s ratio | p50 direct / proxy ms "
        "| p99 direct / proxy ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in ratios:
        overhead.append(
            f"| {r.endpoint} | {r.direct_rps:.0f} | {r.proxy_rps:.0f} | {r.rps_ratio:.2f} "
            f"| {r.direct_p50_ms:.2f} / {r.proxy_p50_ms:.2f} "
            f"| {r.direct_p99_ms:.2f} / {r.proxy_p99_ms:.2f} | {r.errors} |"
        )
    overhead += ["", "Medians over the rounds; every run is in proxy-overhead.json."]
    flip = [
        "# Flip under load: keep-alive clients while the proxy changes step every second",
        "",
        *header,
        "",
        "| flip mechanism | requests | failed | flips | seconds | failure kinds |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in flips:
        label = {
            "apply": "`strangle apply` (step table pushed, no reload)",
            "reload": "`nginx -s reload` (graceful reload)",
        }[run.mode]
        flip.append(
            f"| {label} | {run.requests} | {run.failed} | {run.flips} | {run.seconds:.1f} "
            f"| {run.notes or '-'} |"
        )
    (RESULTS_DIR / "proxy-overhead.md").write_text("\n".join(overhead) + "\n")
    (RESULTS_DIR / "proxy-flip.md").write_text("\n".join(flip) + "\n")
    (RESULTS_DIR / "proxy-overhead.json").write_text(
        json.dumps(
            {"settings": settings, "ratios": [asdict(r) for r in ratios], "runs": raw}, indent=2
        )
        + "\n"
    )
    (RESULTS_DIR / "proxy-flip.json").write_text(
        json.dumps({"settings": settings, "runs": [asdict(run) for run in flips]}, indent=2) + "\n"
    )
    print("\n".join(overhead))
    print()
    print("\n".join(flip))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=int, default=3, help="seconds per overhead run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--flip-duration", type=int, default=20)
    parser.add_argument("--flip-connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per backend")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--proxy-workers", default="1", help="nginx worker_processes")
    parser.add_argument("--skip-flips", action="store_true")
    args = parser.parse_args(argv)

    overhead_load = WrkLoad(
        threads=2, connections=args.connections, duration_s=args.duration, max_requests=2_000_000
    )
    with (
        own_database("bench") as database_url,
        LiveBackend(name="b_bench", database_url=database_url, products=args.products) as live,
        tempfile.TemporaryDirectory(prefix="strangler-bench-") as tmp,
    ):
        monolith = Gunicorn(live, workers=args.workers)
        catalog = Gunicorn(live, workers=args.workers)
        try:
            urls = {
                "monolith": monolith.url,
                "auth": monolith.url,
                "catalog": catalog.url,
                "orders": monolith.url,
            }
            # Production settings: no debug header, as a deployment would run it.
            with RunningProxy(
                Path(tmp) / "var",
                backends=urls,
                env={"SHOP_ENV": "production", "PROXY_WORKERS": args.proxy_workers},
            ) as proxy:
                settings = {
                    "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "load average at start (1/5/15 min)": " / ".join(
                        f"{value:.2f}" for value in os.getloadavg()
                    ),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores, shared by "
                    "wrk, nginx and gunicorn",
                    "backend": f"monolith under gunicorn (deploy/gunicorn.conf.py, "
                    f"{args.workers} workers x 4 threads), "
                    f"{'PostgreSQL' if database_url else 'SQLite'}, {args.products} products",
                    "proxy": f"nginx {args.proxy_workers} worker(s), shipped plan, "
                    "SHOP_ENV=production",
                    "overhead load": f"wrk 2 threads, {args.connections} keep-alive "
                    f"connections, {args.duration} s per run, {args.rounds} rounds",
                    "flip load": f"wrk 2 threads, {args.flip_connections} keep-alive "
                    f"connections on GET {FLIP_PATH}, {args.flip_duration} s, a flip a second",
                }
                print("overhead:", flush=True)
                ratios, raw = measure_overhead(
                    direct=monolith.url,
                    proxy=proxy.public_url,
                    rounds=args.rounds,
                    load=overhead_load,
                )
                flips = []
                for mode in () if args.skip_flips else ("apply", "reload"):
                    print(f"flip under load ({mode}):", flush=True)
                    flips.append(
                        flip_under_load(
                            proxy,
                            mode=mode,
                            seconds=args.flip_duration,
                            connections=args.flip_connections,
                        )
                    )
        finally:
            monolith.stop()
            catalog.stop()
    write_results(settings, ratios, raw, flips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
