"""The proxy's JSON access log, read back: its lines of the last minutes, and the nearest-rank
p99 of a list of times (the benchmarks' and the tests' figures; `strangle status` and the canary
analysis read the proxy's metrics, strangler.proxy.traffic)."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TAIL_BYTES = 32 * 1024 * 1024  # bounded read: recent lines are at the end


def p99(values: list[float]) -> float | None:
    """Nearest-rank 99th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def read_recent(path: Path, *, minutes: float, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(UTC)
    since = now - timedelta(minutes=minutes)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return []
    with path.open("rb") as handle:
        if size > TAIL_BYTES:
            handle.seek(size - TAIL_BYTES, os.SEEK_SET)
            handle.readline()  # drop the partial first line
        lines = handle.read().splitlines()
    entries = []
    for raw in lines:
        try:
            entry = json.loads(raw)
            at = datetime.fromisoformat(entry["time"])
        except (ValueError, KeyError, TypeError):
            continue
        if at >= since:
            entries.append(entry)
    return entries
