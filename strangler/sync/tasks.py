from celery import shared_task
from django.db import OperationalError

from .consumer import Event, apply_event
from .relay import APPLY_EVENT_TASK


@shared_task(
    name=APPLY_EVENT_TASK,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=None,
)
def apply_event_task(message: dict) -> str:
    return apply_event(Event.from_message(message))
