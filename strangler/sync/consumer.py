"""The read side: apply other backends' events once, never over newer data, never re-emitted.

Every way a copy receives rows (events from the broker, a backfill page, a read-through of one
row) ends in `store`, which lets a row in only when its version is newer than the one held:
the version row is upserted first with a conditional `ON CONFLICT ... WHERE` that returns the
ids it moved forward, and only those ids' data is written, under that version row's lock. So
two writers racing on one aggregate (the consumer and a read-through, two consumers after a
redelivery) can never leave older data behind a newer version.

An event is applied only from a backend that may own its domain; the others are refused:
logged, never applied, never retried (`_from_possible_owners`).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from strangler.conf import strangler_settings

from . import generations, metrics, registry
from .models import AggregateVersion, InboxEvent
from .outbox import applying_event
from .ownership import current_ownership
from .states import EventOutcome
from .upsert import set_versions, upsert_rows

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    event_id: str
    source: str
    aggregate_type: str
    aggregate_id: str
    version: int
    payload: dict | None
    deleted: bool
    created_at: datetime | None = None  # when the owner wrote it (the sync lag's start)

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
            created_at=(
                datetime.fromisoformat(message["created_at"]) if message.get("created_at") else None
            ),
        )


@transaction.atomic
def store(aggregate: registry.Aggregate, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Stores rows ({id, version, payload, deleted?}) of one aggregate where they are newer than
    what this backend holds; returns the ids written. Within `rows` the highest version wins."""
    latest: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        key = str(row["id"])
        if key not in latest or int(row["version"]) > int(latest[key]["version"]):
            latest[key] = row
    moved = set_versions(aggregate.name, {k: int(r["version"]) for k, r in latest.items()})
    if not moved:
        return moved
    generations.changed(aggregate.domain)
    manager = aggregate.model._default_manager
    upserts = [latest[k] for k in moved if not latest[k].get("deleted")]
    deletes = [latest[k]["id"] for k in moved if latest[k].get("deleted")]
    with applying_event():
        upsert_rows(aggregate, upserts)
        if deletes:
            manager.filter(pk__in=deletes).delete()
    return moved


@transaction.atomic
def overwrite(
    aggregate: registry.Aggregate, *, rows: Sequence[Mapping[str, Any]], delete: list[int]
) -> None:
    """A repair: this copy takes the owner's rows and versions as they are, even where it
    holds a higher version (a copy that went wrong), and drops the ids the owner has not."""
    generations.changed(aggregate.domain)
    with applying_event():
        if delete:
            aggregate.model._default_manager.filter(pk__in=delete).delete()
            AggregateVersion.objects.filter(
                aggregate_type=aggregate.name, aggregate_id__in=[str(i) for i in delete]
            ).delete()
        upsert_rows(aggregate, rows)
        set_versions(
            aggregate.name, {str(r["id"]): int(r["version"]) for r in rows}, only_forward=False
        )


def _in_dependency_order(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Events grouped by aggregate, in registration order, so parents are stored first."""
    grouped: dict[str, list[Event]] = {a.name: [] for a in registry.all_aggregates()}
    for event in events:
        if event.aggregate_type not in grouped:
            raise registry.UnknownAggregate(
                f"no synced aggregate named {event.aggregate_type!r} here"
            )
        grouped[event.aggregate_type].append(event)
    return {name: group for name, group in grouped.items() if group}


def _from_possible_owners(events: list[Event]) -> set[str]:
    """The ids of the events whose source may have written their domain; the others are
    logged and refused.

    Only a domain's owner writes it, but "the owner recorded here now" would be too narrow: the
    old owner's last events, written while it owned the domain, can still be on their way to a
    copy when a flip completes (the flip waits for the new owner to hold them, not for every
    copy), and so can the new owner's after a rollback. An event does not prove when it was
    written, so the rule is the plan's: accepted from a backend the plan lets own the domain
    (the origin, or one whose `owns` names it) and from the owner recorded here; refused from
    any other (a backend that can never own the domain, a name no backend has). Between
    legitimate writers the versions decide, as before. Forged sources are the broker
    credentials' business; this keeps out backends publishing what they can never own.
    """
    allowed: dict[str, set[str]] = {}
    accepted = set()
    for event in events:
        domain = registry.by_name(event.aggregate_type).domain
        if domain not in allowed:
            allowed[domain] = set(strangler_settings.possible_owners(domain))
            allowed[domain].add(current_ownership(domain).owner)
        if event.source in allowed[domain]:
            accepted.add(event.event_id)
            continue
        logger.warning(
            "sync event %s refused: %s may not own %s; %s %s v%s not applied",
            event.event_id,
            event.source,
            domain,
            event.aggregate_type,
            event.aggregate_id,
            event.version,
        )
    return accepted


@transaction.atomic
def apply_events(events: list[Event]) -> dict[str, EventOutcome]:
    """Applies a batch of events in one transaction; returns each event's outcome."""
    unique = list({e.event_id: e for e in events}.values())
    seen = set(
        str(pk)
        for pk in InboxEvent.objects.filter(event_id__in=[e.event_id for e in unique]).values_list(
            "event_id", flat=True
        )
    )
    outcomes = {e.event_id: EventOutcome.DUPLICATE for e in unique if e.event_id in seen}
    candidates = [e for e in unique if e.event_id not in seen]
    accepted = _from_possible_owners(candidates)
    # Refused events stay out of the inbox: a refused event must not make a genuine one with
    # the same id count as a duplicate later.
    refused = [e for e in candidates if e.event_id not in accepted]
    outcomes.update({e.event_id: EventOutcome.REFUSED for e in refused})
    fresh = [e for e in candidates if e.event_id in accepted]
    for name, group in _in_dependency_order(fresh).items():
        written = store(
            registry.by_name(name),
            [
                {
                    "id": e.aggregate_id,
                    "version": e.version,
                    "payload": e.payload or {},
                    "deleted": e.deleted,
                }
                for e in group
            ],
        )
        winners: dict[str, Event] = {}
        for e in group:
            if e.aggregate_id in written and (
                e.aggregate_id not in winners or e.version > winners[e.aggregate_id].version
            ):
                winners[e.aggregate_id] = e
        winning = {e.event_id for e in winners.values()}
        outcomes.update(
            {
                e.event_id: EventOutcome.APPLIED if e.event_id in winning else EventOutcome.STALE
                for e in group
            }
        )
    InboxEvent.objects.bulk_create(
        [
            InboxEvent(
                event_id=e.event_id,
                source=e.source,
                aggregate_type=e.aggregate_type,
                aggregate_id=e.aggregate_id,
                version=e.version,
                outcome=outcomes[e.event_id],
            )
            for e in fresh
        ],
        ignore_conflicts=True,
    )
    # Counted once the batch is committed: a batch rolled back and retried counts once.
    counted = [(e.aggregate_type, outcomes[e.event_id], e.created_at) for e in unique]
    transaction.on_commit(lambda: metrics.record(counted))
    return outcomes


def apply_event(event: Event) -> EventOutcome:
    return apply_events([event])[event.event_id]
