"""Run the checkout flow with locust (headless, in its own process) and read its final stats.

locust runs in a subprocess because importing it monkey-patches the importing process (gevent).
Its JSON stats are written once, at shutdown, so they hold every request; its CSV files are
rewritten only once a second and can miss the last requests, so they serve only for the first
failure's message.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.report import ScenarioResult

LOCUSTFILE = Path(__file__).resolve().parent / "checkout_locustfile.py"
FLOW_NAME = "checkout"
ROWS = {
    # locust name -> scenario label in the report
    FLOW_NAME: "checkout flow (PUT cart item + POST /api/orders)",
    "POST /api/orders": "checkout step: POST /api/orders",
    "PUT /api/cart/items/{id}": "checkout step: PUT /api/cart/items/{id}",
}


class LocustError(RuntimeError):
    """locust failed or wrote no stats."""


@dataclass(frozen=True)
class LocustLoad:
    users: int
    duration_s: int
    max_checkouts: int
    timeout_margin_s: int = 60


def run_checkout(
    *, base_url: str, tokens: list[str], product_ids: list[int], load: LocustLoad
) -> list[ScenarioResult]:
    with tempfile.TemporaryDirectory(prefix="shop-bench-locust-") as scratch:
        setup_file = Path(scratch) / "setup.json"
        setup_file.write_text(json.dumps({"tokens": tokens, "product_ids": product_ids}))
        prefix = Path(scratch) / "checkout"
        command = [
            sys.executable,
            "-m",
            "locust",
            f"--locustfile={LOCUSTFILE}",
            "--headless",
            f"--users={load.users}",
            f"--spawn-rate={load.users}",
            f"--run-time={load.duration_s}s",
            "--stop-timeout=10",
            f"--host={base_url}",
            f"--csv={prefix}",
            f"--json-file={prefix}",
            "--only-summary",
            "--loglevel=WARNING",
            "--exit-code-on-error=0",
        ]
        env = {
            **os.environ,
            "BENCH_SETUP_FILE": str(setup_file),
            "BENCH_MAX_CHECKOUTS": str(load.max_checkouts),
        }
        completed = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=load.duration_s + load.timeout_margin_s,
            check=False,
        )
        stats_file = Path(f"{prefix}.json")
        if completed.returncode != 0 or not stats_file.exists():
            raise LocustError(
                f"locust exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
            )
        failures_file = Path(f"{prefix}_failures.csv")
        failures = failures_file.read_text() if failures_file.exists() else ""
        return parse_stats(json.loads(stats_file.read_text()), failures=failures)


def percentile(histogram: dict[str, int], fraction: float) -> float:
    """Nearest-rank percentile of locust's histogram {rounded milliseconds: count}."""
    counts = sorted((float(value), count) for value, count in histogram.items())
    total = sum(count for _value, count in counts)
    if total == 0:
        return 0.0
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value, count in counts:
        seen += count
        if seen >= rank:
            return value
    return counts[-1][0]


def parse_stats(entries: list[dict], *, failures: str = "") -> list[ScenarioResult]:
    by_name = {entry["name"]: entry for entry in entries}
    missing = [name for name in ROWS if name not in by_name]
    if missing:
        raise LocustError(f"locust stats lack {missing}: {sorted(by_name)}")
    first_failure = next(csv.DictReader(failures.splitlines()), None)
    results = []
    for name, label in ROWS.items():
        entry = by_name[name]
        requests = entry["num_requests"]
        elapsed = (entry["last_request_timestamp"] or entry["start_time"]) - entry["start_time"]
        notes = ""
        if name == FLOW_NAME and first_failure is not None:
            notes = f"first failure: {first_failure['Name']}: {first_failure['Error'][:200]}"
        results.append(
            ScenarioResult(
                scenario=label,
                tool="locust",
                requests=requests,
                errors=entry["num_failures"],
                duration_s=round(elapsed, 2),
                requests_per_s=requests / elapsed if elapsed > 0 else 0.0,
                p50_ms=percentile(entry["response_times"], 0.50),
                p99_ms=percentile(entry["response_times"], 0.99),
                notes=notes,
            )
        )
    return results
