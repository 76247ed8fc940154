"""Run wrk (the Debian package) against one GET scenario and parse what the Lua script reports."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from bench.report import ScenarioResult

SCRIPT = Path(__file__).resolve().parent / "scripts" / "wrk_report.lua"
RESULT_MARKER = "BENCH_RESULT "
THREAD_DONE_MARKER = "BENCH_THREAD_DONE"


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no result."""


@dataclass(frozen=True)
class WrkLoad:
    threads: int
    connections: int
    duration_s: int
    max_requests: int
    # Headroom over --duration before the run is considered hung.
    margin_s: int = 30
    # Milliseconds each connection waits before its next request: a paced load instead of a
    # saturating one (0: none).
    pause_ms: int = 0


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("wrk is not installed (apt-get install -y wrk)")
    return found


def run_wrk(
    *,
    scenario: str,
    url: str,
    load: WrkLoad,
    path_template: str | None = None,
    ids_file: Path | None = None,
) -> ScenarioResult:
    per_thread = max(1, load.max_requests // load.threads)
    command = [
        wrk_binary(),
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={load.duration_s}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        url,
        "--",
        path_template or "-",
        str(ids_file) if ids_file else "-",
        str(per_thread),
        str(load.pause_ms),
    ]
    output = _run_until_done(command, threads=load.threads, timeout=load.duration_s + load.margin_s)
    return parse_result(scenario=scenario, output=output)


def _run_until_done(command: list[str], *, threads: int, timeout: float) -> str:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    # A hung wrk must not hang the benchmark: kill it once the run is well overdue.
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    lines = []
    finished_threads = 0
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.strip() == THREAD_DONE_MARKER:
                finished_threads += 1
                if finished_threads == threads:
                    process.send_signal(signal.SIGINT)
        stderr = process.stderr.read() if process.stderr else ""
        returncode = process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    if returncode != 0:
        raise WrkError(f"wrk exited {returncode}: {stderr.strip()}")
    return "".join(lines)


def parse_result(*, scenario: str, output: str) -> ScenarioResult:
    lines = [line for line in output.splitlines() if line.startswith(RESULT_MARKER)]
    if not lines:
        raise WrkError(f"wrk printed no result line:\n{output}")
    data = json.loads(lines[-1][len(RESULT_MARKER) :])
    duration_s = data["duration_us"] / 1_000_000
    errors = data["errors"]
    # wrk counts non-2xx/3xx answers under "status"; they completed but are still failures.
    failures = sum(errors.values())
    notes = ", ".join(f"{kind} {count}" for kind, count in errors.items() if count)
    return ScenarioResult(
        scenario=scenario,
        tool="wrk",
        requests=data["requests"],
        errors=failures,
        duration_s=round(duration_s, 2),
        requests_per_s=data["requests"] / duration_s if duration_s else 0.0,
        p50_ms=data["latency_us"]["p50"] / 1000,
        p99_ms=data["latency_us"]["p99"] / 1000,
        p999_ms=data["latency_us"]["p999"] / 1000,
        notes=f"errors: {notes}" if notes else "",
    )
