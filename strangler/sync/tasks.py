import logging

from celery import shared_task
from django.db import IntegrityError

from strangler.service.errors import DatabaseUnreachable

from .consumer import Event, apply_events
from .relay import APPLY_EVENTS_TASK
from .states import EventOutcome

logger = logging.getLogger(__name__)

# How often events whose parent row is missing are tried again before they are left to a backfill.
ORPHAN_RETRIES = 8


def _pause(attempt: int) -> float:
    """Seconds before retry number `attempt` + 1: 0.2, 0.4, 0.8, 1.6, 3.2, then 5."""
    return min(5.0, 0.2 * 2 ** min(attempt, 5))


# No retry limit of the task's own: a batch is retried as long as this backend's database is
# unreachable (Celery's count of retries says how long it has waited), and orphans count their
# retries apart (`orphan_retries`), so waiting out an outage does not use up theirs.
@shared_task(name=APPLY_EVENTS_TASK, bind=True, acks_late=True, max_retries=None)
def apply_events_task(self, messages: list[dict], orphan_retries: int = 0) -> dict[str, int]:
    events = [Event.from_message(m) for m in messages]
    try:
        try:
            outcomes = apply_events(events)
        except IntegrityError:
            outcomes, orphans = _one_by_one(events, messages)
        else:
            orphans = []
    except DatabaseUnreachable as exc:
        # This copy's database is away (or a lock or a deadlock broke the transaction). Given
        # up on, the batch's events would be missing here until a repair: it waits instead.
        raise self.retry(exc=exc, countdown=_pause(self.request.retries)) from exc
    if orphans:
        if orphan_retries < ORPHAN_RETRIES:
            raise self.retry(
                args=[orphans],
                kwargs={"orphan_retries": orphan_retries + 1},
                countdown=_pause(orphan_retries),
            )
        logger.error(
            "sync events not applicable, their rows need a backfill: %s",
            [(m["aggregate_type"], m["aggregate_id"], m["version"]) for m in orphans],
        )
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _one_by_one(
    events: list[Event], messages: list[dict]
) -> tuple[dict[str, EventOutcome], list[dict]]:
    """Applies each event on its own; returns the outcomes and the messages that failed."""
    # An event whose parent row is not here yet (a token of a user only a backfill will
    # copy) must not hold up the others: apply one by one, retry the ones that fail a few
    # times; after that parity reports their rows and a backfill or repair copies them.
    outcomes: dict[str, EventOutcome] = {}
    orphans: list[dict] = []
    for event, message in zip(events, messages, strict=True):
        try:
            outcomes.update(apply_events([event]))
        except IntegrityError:
            orphans.append(message)
    return outcomes, orphans


SWEEP_COMPENSATIONS_TASK = "strangler.sync.sweep_compensations"


@shared_task(name=SWEEP_COMPENSATIONS_TASK, ignore_result=True)
def sweep_compensations_task() -> int:
    from .compensations import sweep

    return sweep()
