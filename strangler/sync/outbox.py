"""The write side: a change and its event commit together, or neither does."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, models

from . import generations, registry
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


def is_applying_event() -> bool:
    return _applying_event.get()


def next_version(*, aggregate_type: str, aggregate_id: str) -> int:
    """The aggregate's next version, in one statement: the row lock it takes orders concurrent
    writers of one aggregate, so versions are never given out twice."""
    table = AggregateVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (aggregate_type, aggregate_id, version) VALUES (%s, %s, 1) "
            "ON CONFLICT (aggregate_type, aggregate_id) "
            f"DO UPDATE SET version = {table}.version + 1 RETURNING version",
            [aggregate_type, aggregate_id],
        )
        return cursor.fetchone()[0]


def record_change(
    instance: models.Model, *, deleted: bool = False, reread: bool = False
) -> OutboxEvent | None:
    """Records the current state of a synced instance as the next version of its aggregate.

    With `reread` the state is read back from the row (after a save of some fields only, the
    instance's other fields may be older than the row's)."""
    if _applying_event.get():
        return None
    if not connection.in_atomic_block:
        raise RuntimeError("record_change must run inside the transaction of the change")
    aggregate = registry.for_model(type(instance))
    aggregate_id = str(instance.pk)
    event = OutboxEvent.objects.create(
        aggregate_type=aggregate.name,
        aggregate_id=aggregate_id,
        version=next_version(aggregate_type=aggregate.name, aggregate_id=aggregate_id),
        partition_key=aggregate.partition_key(instance),
        payload=None if deleted else _payload(aggregate, instance, reread=reread),
        deleted=deleted,
    )
    generations.changed(aggregate.domain)
    return event


def _payload(aggregate: registry.Aggregate, instance: models.Model, *, reread: bool) -> dict:
    if not reread:
        return aggregate.payload(instance)
    row = aggregate.model._default_manager.filter(pk=instance.pk).values_list(*aggregate.attnames)
    return aggregate.payload_from_values(row.get())
