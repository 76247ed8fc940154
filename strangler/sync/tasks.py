import logging

from celery import shared_task
from django.db import IntegrityError, OperationalError

from .consumer import Event, apply_events
from .relay import APPLY_EVENTS_TASK
from .states import EventOutcome

logger = logging.getLogger(__name__)


@shared_task(
    name=APPLY_EVENTS_TASK,
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=0.2,
    retry_backoff_max=5,
    max_retries=8,
)
def apply_events_task(self, messages: list[dict]) -> dict[str, int]:
    events = [Event.from_message(m) for m in messages]
    try:
        outcomes = apply_events(events)
    except IntegrityError:
        outcomes, orphans = _one_by_one(events, messages)
    else:
        orphans = []
    if orphans:
        if self.request.retries < self.max_retries:
            raise self.retry(args=[orphans], countdown=min(5, 0.2 * 2**self.request.retries))
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
