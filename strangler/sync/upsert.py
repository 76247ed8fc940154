"""Bulk upserts of copied rows and their versions, in as few statements as the database allows.

On PostgreSQL each column travels as one array parameter (`INSERT ... SELECT * FROM unnest(...)`):
a thousand rows are one statement with a handful of parameters, not thousands of placeholders
for the driver to rewrite (the ORM's bulk_create spent most of a backfill doing that). Other
databases take multi-row VALUES.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models

from . import registry
from .models import AggregateVersion

_VALUES_CHUNK = 500
# Field types whose payload value (Aggregate.payload) PostgreSQL casts from its JSON form.
_AS_IN_PAYLOAD = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "DecimalField",
        "EmailField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
        "UUIDField",
    }
)


def set_versions(
    aggregate_type: str, versions: dict[str, int], *, only_forward: bool = True
) -> set[str]:
    """Sets each aggregate id's version; with `only_forward`, only where the given one is higher.
    Returns the ids that were set (the others hold the same or a newer version already)."""
    if not versions:
        return set()
    table = AggregateVersion._meta.db_table
    conflict = (
        "ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version "
        + (f"WHERE {table}.version < excluded.version " if only_forward else "")
        + "RETURNING aggregate_id"
    )
    moved: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (aggregate_type, aggregate_id, version) "
                "SELECT %s, * FROM unnest(%s::varchar[], %s::bigint[]) " + conflict,
                [aggregate_type, list(versions), list(versions.values())],
            )
            return {row[0] for row in cursor.fetchall()}
        items = list(versions.items())
        for start in range(0, len(items), _VALUES_CHUNK):
            chunk = items[start : start + _VALUES_CHUNK]
            cursor.execute(
                f"INSERT INTO {table} (aggregate_type, aggregate_id, version) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk))
                + " "
                + conflict,
                [value for key, version in chunk for value in (aggregate_type, key, version)],
            )
            moved.update(row[0] for row in cursor.fetchall())
    return moved


def upsert_rows(aggregate: registry.Aggregate, rows: Sequence[Mapping[str, Any]]) -> None:
    """Writes rows ({id, payload}) of the aggregate's model, inserting or overwriting the
    aggregate's fields with the payload's values as they are: a copy keeps its owner's
    timestamps (no auto_now or auto_now_add runs here, unlike a save or the ORM's bulk_create)."""
    if not rows:
        return
    meta = aggregate.model._meta
    fields = [meta.pk, *(aggregate.field(name) for name in aggregate.fields)]
    quoted = [connection.ops.quote_name(_column(field)) for field in fields]
    insert = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({', '.join(quoted)}) "
    conflict = f" ON CONFLICT ({quoted[0]}) DO UPDATE SET " + ", ".join(
        f"{name} = excluded.{name}" for name in quoted[1:]
    )
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            for start in range(0, len(rows), _VALUES_CHUNK):
                chunk = rows[start : start + _VALUES_CHUNK]
                row_placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
                cursor.execute(
                    insert + "VALUES " + ", ".join([row_placeholders] * len(chunk)) + conflict,
                    [value for row in chunk for value in _prepared(fields, row)],
                )
        return
    columns: list[list] = [[row["id"] for row in rows]]
    for field in fields[1:]:
        if field.get_internal_type() in _AS_IN_PAYLOAD:
            # The payload's JSON form (ISO dates, UUID and decimal strings, numbers, booleans)
            # is what PostgreSQL parses into the column's type: no conversion in Python.
            columns.append([_payload_value(field, row) for row in rows])
        else:
            columns.append([_prepared_value(field, row) for row in rows])
    arrays = ", ".join(f"%s::{_array_type(field)}[]" for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(insert + f"SELECT * FROM unnest({arrays})" + conflict, columns)


def _prepared(fields: Sequence[models.Field], row: Mapping[str, Any]) -> list:
    return [row["id"], *(_prepared_value(field, row) for field in fields[1:])]


def _prepared_value(field: models.Field, row: Mapping[str, Any]):
    return field.get_db_prep_save(field.to_python(_payload_value(field, row)), connection)


def _payload_value(field: models.Field, row: Mapping[str, Any]):
    """The payload's value of the field; the field's default when the payload predates the
    field (events of an owner still running the model before a migration added it)."""
    payload = row["payload"]
    return payload[field.name] if field.name in payload else field.get_default()


def _column(field: models.Field) -> str:
    if field.column is None:
        raise ValueError(f"{field} has no column of its own")
    return field.column


def _array_type(field: models.Field) -> str:
    # A foreign key's column has its target's type; rel_db_type says so.
    if isinstance(field, models.ForeignKey):
        kind = field.target_field.rel_db_type(connection)
    else:
        kind = field.cast_db_type(connection)
    if kind is None:
        raise ValueError(f"{field} has no database type")
    return kind
