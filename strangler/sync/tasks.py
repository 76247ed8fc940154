from celery import shared_task
from django.db import IntegrityError, OperationalError

from .consumer import Event, apply_event
from .relay import APPLY_EVENT_TASK


@shared_task(
    name=APPLY_EVENT_TASK,
    acks_late=True,
    # IntegrityError: an event can overtake the one it depends on (a token before its user)
    # when several workers consume; the retry applies it once the other has landed.
    autoretry_for=(OperationalError, IntegrityError),
    retry_backoff=0.2,
    retry_backoff_max=30,
    max_retries=50,
)
def apply_event_task(message: dict) -> str:
    return apply_event(Event.from_message(message))
