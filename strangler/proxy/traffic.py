"""Traffic per route and backend, from the proxy's metrics (strangler/metrics.lua, served at
/__strangler/metrics on the internal listener, over the last N minutes with ?minutes=N).

`summarise` gives each route's figures per backend that answered; `summarise_split` those of a
step's split reads per backend the split chose. A p99 comes from the duration histogram's
buckets, interpolated within its bucket as Prometheus' histogram_quantile does; the buckets
are fine (at most a third apart) from 50 ms to 1 s, where the canary gate compares p99s.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "strangler_requests_total"
BUCKETS = "strangler_request_duration_seconds_bucket"


@dataclass(frozen=True, slots=True)
class Traffic:
    requests: int
    errors: int  # 5xx, whoever produced them
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass(slots=True)
class _Tally:
    requests: int = 0
    errors: int = 0
    buckets: dict[float, float] = field(default_factory=lambda: defaultdict(float))

    def traffic(self) -> Traffic:
        return Traffic(requests=self.requests, errors=self.errors, p99_ms=p99_ms(self.buckets))


def p99_ms(buckets: dict[float, float]) -> float | None:
    """The 99th percentile in milliseconds of cumulative `buckets` ({upper bound: count}),
    linear within the bucket that holds it; the highest finite bound when +Inf holds it."""
    bounds = sorted(buckets)
    total = buckets.get(math.inf, 0.0)
    if not total:
        return None
    rank = 0.99 * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == math.inf:
                return lower * 1000
            share = (rank - below) / (count - below) if count > below else 1.0
            return (lower + (bound - lower) * share) * 1000
        lower, below = bound, count
    return lower * 1000


def _samples(text: str) -> Iterable[tuple[str, dict[str, str], float]]:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value


def summarise(text: str) -> dict[tuple[str, str], Traffic]:
    """Traffic per (route, backend that answered); backend "*" holds the route's total."""
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for name, labels, value in _samples(text):
        route, backend = labels.get("route", "-"), labels.get("backend", "-")
        for key in ((route, backend), (route, "*")):
            _add(tallies[key], name, labels, value, failed=_is_5xx(labels))
    return {key: tally.traffic() for key, tally in tallies.items() if tally.requests}


def summarise_split(text: str, *, step: str) -> dict[tuple[str, str], Traffic]:
    """Traffic per (route, backend its split chose) of the reads split at `step`.

    A read counts as an error of the backend chosen when that backend answered a 5xx, or did
    not answer it at all: the fallback did, because it failed or because nginx had marked it
    down after failures. A canary's failures must not hide behind the fallback. Its time is
    the client's, the failed try included."""
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    for name, labels, value in _samples(text):
        chosen = labels.get("split")
        if not chosen or labels.get("step") != step:
            continue
        failed = _is_5xx(labels) or labels.get("backend") != chosen
        _add(tallies[(labels.get("route", "-"), chosen)], name, labels, value, failed=failed)
    return {key: tally.traffic() for key, tally in tallies.items() if tally.requests}


def _is_5xx(labels: dict[str, str]) -> bool:
    return labels.get("code", "").startswith("5")


def _add(tally: _Tally, name: str, labels: dict[str, str], value: float, *, failed: bool) -> None:
    if name == REQUESTS:
        tally.requests += int(value)
        tally.errors += int(value) if failed else 0
    elif name == BUCKETS:
        tally.buckets[float(labels["le"])] += value
