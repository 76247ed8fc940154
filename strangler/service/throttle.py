"""Throttling attempts per key (e.g. logins per account and client address), across every
worker process of a backend: the counts are rows in its database, not per-process memory.

An attempt is counted before it is checked (`count_attempt`), in one UPDATE of the key's row:
concurrent requests each get their own count, so no more than `limit` of them ever reach the
costly check (a password hash), however many arrive at once. A success clears the key
(`clear_failures`), so only failures add up across requests.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from strangler.models import FailureCount

# A purge of the key's row by a concurrent attempt can fall between our insert and our update;
# the next round inserts it again.
_ROUNDS = 3


class TooManyFailures(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


def count_attempt(*, scope: str, key: str, limit: int, window: timedelta) -> None:
    """Counts one attempt of `key`; raises TooManyFailures when it is more than `limit` within
    `window` of the first one counted (the key is then refused until that window ends)."""
    now = timezone.now()
    count, started_at = _increment(scope=scope, key=key, now=now, cutoff=now - window)
    # Rows whose window ended count nothing: purged on every write, so the keys of random
    # e-mails tried once do not pile up (nothing else runs periodically to remove them).
    FailureCount.objects.filter(scope=scope, started_at__lt=now - window).delete()
    if count > limit:
        retry_after = (started_at + window - now).total_seconds()
        raise TooManyFailures(max(1, int(retry_after) + 1))


@transaction.atomic
def _increment(*, scope: str, key: str, now: datetime, cutoff: datetime) -> tuple[int, datetime]:
    rows = FailureCount.objects.filter(scope=scope, key=key)
    expired = Q(started_at__lt=cutoff)
    for _ in range(_ROUNDS):
        FailureCount.objects.bulk_create(
            [FailureCount(scope=scope, key=key, count=0, started_at=now)], ignore_conflicts=True
        )
        # One statement reads and writes the count, under the row's lock: concurrent attempts
        # queue here and each sees the others' increments (PostgreSQL re-reads the row it
        # waited for; SQLite runs one writer at a time). An expired window starts again.
        updated = rows.update(
            count=Case(When(expired, then=Value(1)), default=F("count") + 1),
            started_at=Case(When(expired, then=Value(now)), default=F("started_at")),
        )
        if updated:
            # Our own row lock is held until commit: what we read is what we wrote.
            return rows.values_list("count", "started_at").get()
    raise RuntimeError(f"could not count an attempt of {scope}:{key}")


def clear_failures(*, scope: str, key: str) -> None:
    FailureCount.objects.filter(scope=scope, key=key).delete()
