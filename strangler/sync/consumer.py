"""The read side: apply another backend's event once, in order, without re-emitting it."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from . import registry
from .models import AggregateVersion, InboxEvent
from .outbox import applying_event

logger = logging.getLogger(__name__)

APPLIED, DUPLICATE, STALE = "applied", "duplicate", "stale"


@dataclass(frozen=True)
class Event:
    event_id: str
    source: str
    aggregate_type: str
    aggregate_id: str
    version: int
    payload: dict | None
    deleted: bool

    @classmethod
    def from_message(cls, message: dict) -> "Event":
        return cls(
            event_id=str(message["event_id"]),
            source=str(message["source"]),
            aggregate_type=str(message["aggregate_type"]),
            aggregate_id=str(message["aggregate_id"]),
            version=int(message["version"]),
            payload=message.get("payload"),
            deleted=bool(message.get("deleted", False)),
        )


def upsert(aggregate: registry.Aggregate, *, aggregate_id: str, payload: dict) -> None:
    values = aggregate.values(payload)
    with applying_event():
        aggregate.model._default_manager.update_or_create(pk=aggregate_id, defaults=values)


@transaction.atomic
def bulk_upsert(aggregate: registry.Aggregate, rows: list[dict]) -> int:
    """Stores copied rows ({id, version, payload}) in a few statements, skipping any row this
    backend already holds in the same or a newer version (the live sync got there first)."""
    versions = dict(
        AggregateVersion.objects.select_for_update()
        .filter(aggregate_type=aggregate.name, aggregate_id__in=[str(r["id"]) for r in rows])
        .values_list("aggregate_id", "version")
    )
    fresh = [r for r in rows if versions.get(str(r["id"]), -1) < int(r["version"])]
    if not fresh:
        return 0
    meta = aggregate.model._meta
    with applying_event():
        aggregate.model._default_manager.bulk_create(
            [aggregate.model(pk=r["id"], **aggregate.values(r["payload"])) for r in fresh],
            update_conflicts=True,
            unique_fields=[meta.pk.name],
            update_fields=list(aggregate.fields),
        )
    AggregateVersion.objects.bulk_create(
        [
            AggregateVersion(
                aggregate_type=aggregate.name, aggregate_id=str(r["id"]), version=int(r["version"])
            )
            for r in fresh
        ],
        update_conflicts=True,
        unique_fields=["aggregate_type", "aggregate_id"],
        update_fields=["version"],
    )
    return len(fresh)


def remember_version(*, aggregate_type: str, aggregate_id: str, version: int) -> None:
    AggregateVersion.objects.update_or_create(
        aggregate_type=aggregate_type, aggregate_id=aggregate_id, defaults={"version": version}
    )


@transaction.atomic
def apply_event(event: Event) -> str:
    try:
        with transaction.atomic():
            inbox = InboxEvent.objects.create(
                event_id=event.event_id,
                source=event.source,
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                version=event.version,
                outcome=APPLIED,
            )
    except IntegrityError:
        return DUPLICATE
    current = (
        AggregateVersion.objects.select_for_update()
        .filter(aggregate_type=event.aggregate_type, aggregate_id=event.aggregate_id)
        .values_list("version", flat=True)
        .first()
    )
    if current is not None and event.version <= current:
        inbox.outcome = STALE
        inbox.save(update_fields=["outcome"])
        return STALE
    aggregate = registry.by_name(event.aggregate_type)
    if event.deleted:
        with applying_event():
            aggregate.model._default_manager.filter(pk=event.aggregate_id).delete()
    else:
        upsert(aggregate, aggregate_id=event.aggregate_id, payload=event.payload or {})
    remember_version(
        aggregate_type=event.aggregate_type,
        aggregate_id=event.aggregate_id,
        version=event.version,
    )
    return APPLIED
