"""Moving a table's id sequence, so rows created here never reuse ids created elsewhere."""

from django.db import connection, models
from django.db.models import Max


def max_id(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(top=Max("pk"))["top"] or 0


def move_sequence_past(model: type[models.Model], floor: int) -> int:
    """Makes the next id created here greater than both `floor` and every existing id.

    Returns the last id now considered used. Never moves a sequence backwards.
    """
    table = model._meta.db_table
    column = model._meta.pk.column
    target = max(floor, max_id(model))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            last_value, is_called = cursor.fetchone()
            next_id = last_value + 1 if is_called else last_value
            if next_id <= target:
                cursor.execute("SELECT setval(%s, %s)", [sequence, target])
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row is None:
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, target]
                )
            elif row[0] < target:
                cursor.execute(
                    "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [target, table]
                )
        else:
            raise RuntimeError(f"sequence moves are not supported on {connection.vendor}")
    return target
