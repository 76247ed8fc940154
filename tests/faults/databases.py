"""A fault test's own look into a backend's PostgreSQL database: a table lock that holds a sync
process at a chosen statement, the sessions waiting on it, and the sync tables as they are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


def _connect(database_url: str, **options) -> psycopg.Connection:
    return psycopg.connect(database_url.replace("postgres://", "postgresql://", 1), **options)


@contextmanager
def table_locked(database_url: str, table: str) -> Iterator[None]:
    """Holds `table` in SHARE mode: readers (and SELECT ... FOR UPDATE) go on, every writer
    waits at its INSERT, UPDATE or DELETE until the block ends."""
    with _connect(database_url) as connection:
        connection.execute(f"LOCK TABLE {table} IN SHARE MODE")
        try:
            yield
        finally:
            connection.rollback()


def waiting_at(database_url: str, statement: str) -> int:
    """How many sessions of the database wait on a lock in a statement containing `statement`."""
    with _connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%{statement}%"],
        ).fetchone()
    return row[0] if row else 0


def outbox_after(database_url: str, last_id: int) -> set[str]:
    """The ids of the events recorded after outbox row `last_id`."""
    with _connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT event_id FROM strangler_outboxevent WHERE id > %s", [last_id]
        ).fetchall()
    return {str(event_id) for (event_id,) in rows}


def inbox(database_url: str) -> dict[str, str]:
    """event id -> outcome of every event the backend received."""
    with _connect(database_url, autocommit=True) as connection:
        rows = connection.execute("SELECT event_id, outcome FROM strangler_inboxevent").fetchall()
    return {str(event_id): outcome for event_id, outcome in rows}
