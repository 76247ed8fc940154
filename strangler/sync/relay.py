"""Publishes recorded changes to every subscriber's queue; at least once, never lost.

Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL), so several relays share the
work without publishing a row twice; on SQLite the write transaction itself serialises them. A
row is marked sent in the transaction that published it: if the broker is down the publish
raises, the transaction rolls back and the rows wait for the next attempt.
"""

import logging
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from . import registry
from .models import OutboxEvent

APPLY_EVENT_TASK = "strangler.sync.apply_event"
logger = logging.getLogger(__name__)


def sync_queue(backend: str) -> str:
    return f"sync.{backend}"


def subscribers(aggregate_type: str) -> list[str]:
    return list(settings.STRANGLER_SYNC_SUBSCRIBERS.get(aggregate_type, []))


def message(event: OutboxEvent) -> dict:
    return {
        "event_id": str(event.event_id),
        "source": settings.STRANGLER_BACKEND,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "version": event.version,
        "payload": event.payload,
        "deleted": event.deleted,
        "created_at": event.created_at.isoformat(),
    }


def publish(event: OutboxEvent) -> None:
    for backend in subscribers(event.aggregate_type):
        current_app.send_task(
            APPLY_EVENT_TASK, args=[message(event)], queue=sync_queue(backend), retry=False
        )


def relay_batch(*, limit: int = 200) -> int:
    """Publishes up to `limit` unsent events in creation order; returns how many."""
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")[:limit]
        )
        for event in events:
            publish(event)
        if events:
            OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(sent_at=timezone.now())
    return len(events)


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    oldest_pending_age_seconds: float | None
    last_event_by_domain: dict[str, str]


def outbox_status() -> OutboxStatus:
    unsent = OutboxEvent.objects.filter(sent_at__isnull=True)
    oldest = unsent.aggregate(oldest=Min("created_at"))["oldest"]
    last_by_domain = {}
    for domain in {a.domain for a in registry.all_aggregates()}:
        names = [a.name for a in registry.in_domain(domain)]
        last = (
            OutboxEvent.objects.filter(aggregate_type__in=names)
            .order_by("-id")
            .values_list("event_id", flat=True)
            .first()
        )
        if last:
            last_by_domain[domain] = str(last)
    return OutboxStatus(
        pending=unsent.count(),
        oldest_pending_age_seconds=(
            round((timezone.now() - oldest).total_seconds(), 3) if oldest else None
        ),
        last_event_by_domain=last_by_domain,
    )
