"""A domain's generation: a number that moves in the same transaction as any of its data.

Counted only for the domains this backend caches reads of (`STRANGLER_READ_CACHE_DOMAINS`):
a counter bumped by every write is a row every write of the domain locks until it commits, a
cost the backends that cache nothing do not pay.

The two places every change of a synced domain goes through bump it: `record_change` (an
owner's write, whatever path makes it) and the consumer's `store`/`overwrite` (applied events,
backfill pages, read-throughs, repairs). A reader that reads generation G before reading the
data sees at least the data of G, so a response computed after reading G may be kept under G
and served while G is current: the next change makes another generation current.
"""

from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.db.backends.base.base import BaseDatabaseWrapper

from strangler.conf import strangler_settings

from .models import DomainGeneration

_TABLE = DomainGeneration._meta.db_table


@dataclass(frozen=True)
class Generation:
    domain: str
    epoch: str  # drawn when the counter was created: a fresh database never repeats one
    value: int


def counted(domain: str) -> bool:
    return domain in strangler_settings.READ_CACHE_DOMAINS


def changed(domain: str) -> None:
    """Inside the transaction of a change of `domain`: counts it, if the domain is counted."""
    if not counted(domain):
        return
    if not connection.in_atomic_block:
        raise RuntimeError("a generation moves inside the transaction of the change")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (domain, epoch, value) VALUES (%s, %s, 1) "
            f"ON CONFLICT (domain) DO UPDATE SET value = {_TABLE}.value + 1",
            [domain, DomainGeneration._meta.get_field("epoch").get_default()],
        )


def current(domain: str) -> Generation:
    """The domain's generation now: one primary-key lookup (the row is created on first use).

    Read first in a request, it is also the request's health check of a kept connection
    (CONN_HEALTH_CHECKS): Django would spend a round trip on `SELECT 1` before it; instead a
    read that fails on a connection that was not checked yet closes it, as a failed check
    does, and is made once more on a new one. A cached read then costs one round trip."""
    if _unchecked(connection):
        # Django's own flag (since 4.1), which its type stubs do not declare.
        connection.health_check_done = True  # type: ignore[attr-defined]
        try:
            return _read(domain)
        except DatabaseError:
            connection.close()
    return _read(domain)


def _unchecked(conn: BaseDatabaseWrapper) -> bool:
    return (
        conn.connection is not None
        and conn.health_check_enabled  # type: ignore[attr-defined]
        and not conn.health_check_done  # type: ignore[attr-defined]
        and not conn.in_atomic_block
    )


def _read(domain: str) -> Generation:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT epoch, value FROM {_TABLE} WHERE domain = %s", [domain])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {_TABLE} (domain, epoch, value) VALUES (%s, %s, 0) "
                "ON CONFLICT (domain) DO NOTHING",
                [domain, DomainGeneration._meta.get_field("epoch").get_default()],
            )
            cursor.execute(f"SELECT epoch, value FROM {_TABLE} WHERE domain = %s", [domain])
            row = cursor.fetchone()
    return Generation(domain=domain, epoch=row[0], value=int(row[1]))
