"""Traffic per route and backend over the last minutes, from the proxy's JSON access log."""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TAIL_BYTES = 32 * 1024 * 1024  # bounded read: recent lines are at the end


@dataclass(frozen=True, slots=True)
class Traffic:
    requests: int
    errors: int  # 5xx, whoever produced them
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


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


def summarise(entries: list[dict[str, Any]]) -> dict[tuple[str, str], Traffic]:
    """Traffic per (route, backend); backend "*" holds the route's total."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    for entry in entries:
        route = entry.get("route") or "-"
        backend = entry.get("backend") or "-"
        try:
            status = int(entry.get("status", 0))
            elapsed = float(entry.get("request_time", 0)) * 1000
        except (TypeError, ValueError):
            continue
        for key in ((route, backend), (route, "*")):
            times[key].append(elapsed)
            errors[key] += status >= 500
    return {
        key: Traffic(requests=len(values), errors=errors[key], p99_ms=p99(values))
        for key, values in times.items()
    }
