"""Publishes recorded changes to every subscriber's queues; at least once, never lost.

A batch of unsent rows becomes one message per subscriber and partition (see partitions.py),
so a consumer applies many events in one transaction. Rows are marked sent only after their
messages were published: if the broker is down the publish raises and the rows wait for the
next attempt. On PostgreSQL rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED, so several
relays share the work; on SQLite the batch is read without a transaction, because holding
SQLite's single write lock while talking to the broker would stall every writer of the backend
(one relay per SQLite backend; a row published twice is deduplicated by the consumers).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable

from celery import current_app
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from strangler.conf import strangler_settings

from . import partitions, registry
from .models import OutboxEvent
from .payloads import OutboxStatus, Watermark

APPLY_EVENTS_TASK = "strangler.sync.apply_events"
logger = logging.getLogger(__name__)


def subscribers(aggregate_type: str) -> list[str]:
    return strangler_settings.subscribers(aggregate_type, registry.by_name(aggregate_type).domain)


def message(event: OutboxEvent) -> dict:
    return {
        "event_id": str(event.event_id),
        "source": strangler_settings.BACKEND,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "version": event.version,
        "payload": event.payload,
        "deleted": event.deleted,
        "created_at": event.created_at.isoformat(),
    }


def publish(events: Iterable[OutboxEvent]) -> None:
    """One message per subscriber queue, its events in creation order."""
    batches: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        partition = partitions.of(event.partition_key or event.aggregate_id)
        for backend in subscribers(event.aggregate_type):
            batches[partitions.queue(backend, partition)].append(message(event))
    for queue, messages in batches.items():
        current_app.send_task(APPLY_EVENTS_TASK, args=[messages], queue=queue, retry=False)


def _mark_sent(ids: list[int]) -> None:
    OutboxEvent.objects.filter(pk__in=ids).update(sent_at=timezone.now())


def relay_batch(*, limit: int = 500) -> int:
    """Publishes up to `limit` unsent events in creation order; returns how many."""
    unsent = OutboxEvent.objects.filter(sent_at__isnull=True).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            events = list(unsent.select_for_update(skip_locked=True)[:limit])
            publish(events)
            _mark_sent([e.pk for e in events])
        return len(events)
    events = list(unsent[:limit])
    if events:
        publish(events)
        with transaction.atomic():
            _mark_sent([e.pk for e in events])
    return len(events)


def outbox_status() -> OutboxStatus:
    unsent = OutboxEvent.objects.filter(sent_at__isnull=True)
    oldest = unsent.aggregate(oldest=Min("created_at"))["oldest"]
    return OutboxStatus(
        pending=unsent.count(),
        oldest_pending_age_seconds=(
            round((timezone.now() - oldest).total_seconds(), 3) if oldest else None
        ),
        last_id=OutboxEvent.objects.aggregate(last=Max("id"))["last"] or 0,
    )


def watermark(*, domain: str, after_id: int) -> Watermark:
    """The last version of every aggregate of `domain` changed by events after `after_id`:
    what a copy must hold before it may take over the domain's writes."""
    names = [a.name for a in registry.in_domain(domain)]
    rows = (
        OutboxEvent.objects.filter(aggregate_type__in=names, id__gt=after_id)
        .values("aggregate_type", "aggregate_id")
        .annotate(version=Max("version"))
    )
    result: Watermark = {name: {} for name in names}
    for row in rows:
        result[row["aggregate_type"]][row["aggregate_id"]] = row["version"]
    return result
