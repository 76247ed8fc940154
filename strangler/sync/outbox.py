"""The write side: a change and its event commit together, or neither does."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F

from . import registry
from .models import AggregateVersion, OutboxEvent

_applying_event: ContextVar[bool] = ContextVar("applying_event", default=False)


@contextmanager
def applying_event():
    """Marks writes that apply another backend's event: they are never recorded again, so
    two-way sync cannot loop."""
    token = _applying_event.set(True)
    try:
        yield
    finally:
        _applying_event.reset(token)


def next_version(*, aggregate_type: str, aggregate_id: str) -> int:
    bumped = AggregateVersion.objects.filter(
        aggregate_type=aggregate_type, aggregate_id=aggregate_id
    ).update(version=F("version") + 1)
    if not bumped:
        try:
            with transaction.atomic():
                AggregateVersion.objects.create(
                    aggregate_type=aggregate_type, aggregate_id=aggregate_id, version=1
                )
            return 1
        except IntegrityError:
            return next_version(aggregate_type=aggregate_type, aggregate_id=aggregate_id)
    return AggregateVersion.objects.get(
        aggregate_type=aggregate_type, aggregate_id=aggregate_id
    ).version


def record_change(instance: models.Model, *, deleted: bool = False) -> OutboxEvent | None:
    """Records the current state of a synced instance as the next version of its aggregate."""
    if _applying_event.get():
        return None
    if not connection.in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction of the change")
    aggregate = registry.for_model(type(instance))
    aggregate_id = str(instance.pk)
    return OutboxEvent.objects.create(
        aggregate_type=aggregate.name,
        aggregate_id=aggregate_id,
        version=next_version(aggregate_type=aggregate.name, aggregate_id=aggregate_id),
        payload=None if deleted else aggregate.payload(instance),
        deleted=deleted,
    )
