"""Sync lag read from the data: each outbox row of the writing backend (created_at, sent_at)
joined on event_id with the inbox row of the reading backend (applied_at).

All timestamps come from one machine's clock. created_at is stamped when the event row is
inserted, in the transaction of the change (so just before its commit); sent_at when the relay
marks its batch sent, after publishing it; applied_at when the consumer inserts the inbox row,
in the transaction that applies the event.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import psycopg

OUTBOX_TABLE = "strangler_outboxevent"
INBOX_TABLE = "strangler_inboxevent"


@dataclass(frozen=True)
class OutboxRow:
    event_id: str
    aggregate_type: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class InboxRow:
    event_id: str
    outcome: str
    applied_at: datetime


@dataclass(frozen=True)
class Distribution:
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float


@dataclass(frozen=True)
class Window:
    """The events created in [start_s, start_s + length) of the load: a lag that grows from one
    window to the next is a backlog (the consumer applies slower than the writes arrive)."""

    start_s: float
    events: int
    p50_ms: float
    max_ms: float


@dataclass(frozen=True)
class LagReport:
    events: int
    applied: int
    outcomes: dict[str, int]
    by_aggregate: dict[str, int]
    end_to_end: Distribution | None  # created_at -> applied_at
    until_sent: Distribution | None  # created_at -> sent_at (the outbox and relay share)
    applied_per_s: float  # the consumer's pace: applied events / (last - first applied_at)
    windows: list[Window]
    created_per_s: float = 0.0  # the writers' pace: events / (last - first created_at)
    relay_batches: int = 0  # distinct sent_at: how many batches the relay published them in

    @property
    def missing(self) -> int:
        return self.events - self.applied


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list: a value that was actually observed."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def distribution(values_ms: list[float]) -> Distribution | None:
    if not values_ms:
        return None
    ordered = sorted(values_ms)
    return Distribution(
        count=len(ordered),
        p50_ms=round(percentile(ordered, 0.50), 1),
        p90_ms=round(percentile(ordered, 0.90), 1),
        p99_ms=round(percentile(ordered, 0.99), 1),
        max_ms=round(ordered[-1], 1),
        mean_ms=round(sum(ordered) / len(ordered), 1),
    )


def _ms(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() * 1000.0


def _windows(lags: list[tuple[datetime, float]], *, length_s: float) -> list[Window]:
    if not lags:
        return []
    first = min(created for created, _ in lags)
    buckets: dict[int, list[float]] = {}
    for created, lag_ms in lags:
        buckets.setdefault(int((created - first).total_seconds() // length_s), []).append(lag_ms)
    windows = []
    for index, values in sorted(buckets.items()):
        ordered = sorted(values)
        windows.append(
            Window(
                start_s=index * length_s,
                events=len(ordered),
                p50_ms=round(percentile(ordered, 0.5), 1),
                max_ms=round(ordered[-1], 1),
            )
        )
    return windows


def join_lags(
    outbox: list[OutboxRow], inbox: dict[str, InboxRow], *, window_s: float = 5.0
) -> LagReport:
    lags: list[tuple[datetime, float]] = []
    until_sent: list[float] = []
    applied_times: list[datetime] = []
    outcomes: Counter[str] = Counter()
    for row in outbox:
        if row.sent_at is not None:
            until_sent.append(_ms(row.created_at, row.sent_at))
        applied = inbox.get(row.event_id)
        if applied is None:
            continue
        outcomes[applied.outcome] += 1
        applied_times.append(applied.applied_at)
        lags.append((row.created_at, _ms(row.created_at, applied.applied_at)))
    span_s = (max(applied_times) - min(applied_times)).total_seconds() if applied_times else 0.0
    created = [row.created_at for row in outbox]
    created_span_s = (max(created) - min(created)).total_seconds() if created else 0.0
    return LagReport(
        events=len(outbox),
        applied=sum(outcomes.values()),
        outcomes=dict(outcomes),
        by_aggregate=dict(Counter(row.aggregate_type for row in outbox)),
        end_to_end=distribution([lag for _, lag in lags]),
        until_sent=distribution(until_sent),
        applied_per_s=round((len(applied_times) - 1) / span_s, 1) if span_s else 0.0,
        windows=_windows(lags, length_s=window_s),
        created_per_s=round((len(created) - 1) / created_span_s, 1) if created_span_s else 0.0,
        relay_batches=len({row.sent_at for row in outbox if row.sent_at is not None}),
    )


def outbox_high_water(database_url: str) -> int:
    """The id of the newest outbox row: rows after it belong to the measured window."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT coalesce(max(id), 0) FROM {OUTBOX_TABLE}").fetchone()
    return int(row[0])


def read_outbox(database_url: str, *, after_id: int) -> list[OutboxRow]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT event_id, aggregate_type, created_at, sent_at FROM {OUTBOX_TABLE} "
            "WHERE id > %s ORDER BY id",
            [after_id],
        ).fetchall()
    return [OutboxRow(str(e), a, c, s) for e, a, c, s in rows]


def read_inbox(database_url: str, *, event_ids: list[str]) -> dict[str, InboxRow]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            f"SELECT event_id, outcome, applied_at FROM {INBOX_TABLE} "
            "WHERE event_id = ANY(%s::uuid[])",
            [event_ids],
        ).fetchall()
    return {str(e): InboxRow(str(e), o, a) for e, o, a in rows}


def measure_lag(
    *, writer_url: str, reader_url: str, after_id: int, timeout_s: float
) -> tuple[LagReport, float]:
    """Waits until every outbox row of the window is applied on the reader (or the timeout),
    then joins them. Returns the report and how long the wait for the last event took."""
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        outbox = read_outbox(writer_url, after_id=after_id)
        inbox = read_inbox(reader_url, event_ids=[row.event_id for row in outbox])
        if len(inbox) == len(outbox) or time.monotonic() > deadline:
            return join_lags(outbox, inbox), time.monotonic() - started
        time.sleep(0.5)
