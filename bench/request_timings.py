"""How long requests took where they were served, read from the access logs and matched by
X-Request-ID: the proxy's JSON access log (request_time, per listener) and a backend's JSON log
lines of `strangler.access` (duration_ms). A backend passes the id of the request it serves on
to its internal calls, so one id names a checkout and the reservation it made."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

BACKEND_ACCESS_LOGGER = "strangler.access"


@dataclass(frozen=True)
class Timed:
    request_id: str
    method: str
    path: str
    ms: float


@dataclass(frozen=True)
class Request:
    """What a request is: its method and a pattern its whole path (no query) matches."""

    method: str
    path: str

    def matches(self, timed: Timed) -> bool:
        return timed.method == self.method and re.fullmatch(self.path, timed.path) is not None


def _json_lines(path: Path) -> Iterator[dict]:
    """The JSON objects among a log file's lines (a backend's log also holds its other
    processes' plain text); a missing file has none."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry


def proxy_timings(access_log: Path, *, listener: str) -> list[Timed]:
    """The requests one listener of the proxy served (strangler/proxy's log_format)."""
    return [
        Timed(
            request_id=entry["request_id"],
            method=entry["method"],
            path=entry["uri"].split("?", 1)[0],
            ms=float(entry["request_time"]) * 1000,
        )
        for entry in _json_lines(access_log)
        if entry.get("listener") == listener and "request_time" in entry
    ]


def backend_timings(log: Path) -> list[Timed]:
    """The requests a backend served (strangler.service.request_id's access log lines)."""
    return [
        Timed(
            request_id=entry["request_id"],
            method=entry["method"],
            path=entry["path"],
            ms=float(entry["duration_ms"]),
        )
        for entry in _json_lines(log)
        if entry.get("logger") == BACKEND_ACCESS_LOGGER and entry.get("request_id")
    ]


def timings(records: Iterable[Timed], *, request: Request, id_prefix: str) -> list[float]:
    """Milliseconds of the requests matching `request` whose X-Request-ID starts with
    `id_prefix`, in the order they were logged."""
    return [
        timed.ms
        for timed in records
        if timed.request_id.startswith(id_prefix) and request.matches(timed)
    ]


def by_request(records: Iterable[Timed], *, request: Request, id_prefix: str) -> dict[str, float]:
    """Milliseconds per X-Request-ID (starting with `id_prefix`) of the requests matching
    `request`, a request's retries added up."""
    total: dict[str, float] = {}
    for timed in records:
        if timed.request_id.startswith(id_prefix) and request.matches(timed):
            total[timed.request_id] = total.get(timed.request_id, 0.0) + timed.ms
    return total
