"""The data sync's metrics: what a copy did with the events it received, how late they were,
and what the outbox has not sent yet (served by every backend's /metrics,
strangler.service.metrics).

    strangler_sync_events_total{aggregate, outcome}   applied, duplicate, stale, refused
    strangler_sync_lag_seconds{aggregate}             applied - written, per applied event
    strangler_outbox_pending{aggregate}               unsent outbox rows, read when scraped
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import DatabaseError
from django.db.models import Count
from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from . import registry
from .models import OutboxEvent
from .states import EventOutcome

logger = logging.getLogger(__name__)

EVENTS = Counter(
    "strangler_sync_events",
    "Events this backend received from another, by what it did with them.",
    ["aggregate", "outcome"],
)
# From the write on the owner to the copy's commit: relay interval, broker, consumer. Fine
# below a second, where a healthy sync lives, and up to minutes, where an outage shows.
LAG = Histogram(
    "strangler_sync_lag_seconds",
    "Seconds from an event's write on its owner to its application on this copy.",
    ["aggregate"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)


def record(outcomes: Iterable[tuple[str, EventOutcome, datetime | None]]) -> None:
    """Counts each (aggregate, outcome, written at) and observes the lag of those applied."""
    now = timezone.now()
    for aggregate, outcome, written_at in outcomes:
        EVENTS.labels(aggregate=aggregate, outcome=outcome.value).inc()
        if outcome is EventOutcome.APPLIED and written_at is not None:
            LAG.labels(aggregate=aggregate).observe(max(0.0, (now - written_at).total_seconds()))


class OutboxCollector(Collector):
    """strangler_outbox_pending, counted in the outbox table when scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "strangler_outbox_pending",
            "Outbox events written and not yet published, per aggregate.",
            labels=["aggregate"],
        )
        try:
            counts = dict(
                OutboxEvent.objects.filter(sent_at__isnull=True)
                .values_list("aggregate_type")
                .annotate(count=Count("id"))
                .order_by()
            )
        except DatabaseError:
            # The rest of /metrics matters most when the database is away.
            logger.warning("strangler_outbox_pending left out: the database did not answer")
            return
        # Every aggregate this backend syncs, at 0 when drained: a series that vanishes when
        # the backlog is gone reads as "no data", not as "nothing pending".
        for aggregate in sorted({a.name for a in registry.all_aggregates()} | set(counts)):
            pending.add_metric([aggregate], counts.get(aggregate, 0))
        yield pending
