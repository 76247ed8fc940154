from celery import shared_task
from django.db import IntegrityError, OperationalError

from .consumer import Event, apply_event
from .relay import APPLY_EVENT_TASK


@shared_task(
    name=APPLY_EVENT_TASK,
    acks_late=True,
    # IntegrityError: an event whose parent row is not here yet (a token of a user that only
    # a backfill will copy). A few quick retries; after that, parity reports the row and a
    # backfill copies it, so a stuck event never holds the queue up.
    autoretry_for=(OperationalError, IntegrityError),
    retry_backoff=0.2,
    retry_backoff_max=5,
    max_retries=8,
)
def apply_event_task(message: dict) -> str:
    return apply_event(Event.from_message(message))
