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
    """Traffic per (route, backend that answered); backend "*" holds the route's total."""
    samples = []
    for entry in entries:
        sample = _sample(entry)
        if sample is not None:
            route, backend = entry.get("route") or "-", entry.get("backend") or "-"
            samples.append(((route, backend), *sample))
            samples.append(((route, "*"), *sample))
    return _aggregate(samples)


def summarise_split(entries: list[dict[str, Any]], *, step: str) -> dict[tuple[str, str], Traffic]:
    """Traffic per (route, backend its split chose) of the reads split at `step`.

    A read counts as an error of the backend chosen when that backend answered a 5xx, or did
    not answer it at all: the fallback did, because it failed or because nginx had marked it
    down after failures. A canary's failures must not hide behind the fallback. Its time is
    the client's, the failed try included."""
    samples = []
    for entry in entries:
        chosen = entry.get("split")
        sample = _sample(entry)
        if chosen and entry.get("step") == step and sample is not None:
            failed, elapsed = sample
            answered = entry.get("backend") == chosen
            samples.append(((entry.get("route") or "-", chosen), failed or not answered, elapsed))
    return _aggregate(samples)


def _sample(entry: dict[str, Any]) -> tuple[bool, float] | None:
    """(5xx, milliseconds) of one logged request; None for a line without them."""
    try:
        status = int(entry.get("status", 0))
        elapsed = float(entry.get("request_time", 0)) * 1000
    except (TypeError, ValueError):
        return None
    return status >= 500, elapsed


def _aggregate(
    samples: list[tuple[tuple[str, str], bool, float]],
) -> dict[tuple[str, str], Traffic]:
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    for key, failed, elapsed in samples:
        times[key].append(elapsed)
        errors[key] += failed
    return {
        key: Traffic(requests=len(values), errors=errors[key], p99_ms=p99(values))
        for key, values in times.items()
    }
