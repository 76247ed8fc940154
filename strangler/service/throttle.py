"""Throttling repeated failures per key (e.g. failed logins per account), across every worker
process of a backend: the failures are rows in its database, not per-process memory."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from strangler.models import FailedAttempt


class TooManyFailures(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


def check_failures(*, scope: str, key: str, limit: int, window: timedelta) -> None:
    """Raises TooManyFailures when `key` failed `limit` times within the last `window`."""
    since = timezone.now() - window
    recent = FailedAttempt.objects.filter(scope=scope, key=key, at__gte=since)
    if recent.count() >= limit:
        oldest = recent.order_by("at").values_list("at", flat=True).first()
        retry_after = (oldest + window - timezone.now()).total_seconds() if oldest else 1
        raise TooManyFailures(max(1, int(retry_after) + 1))


@transaction.atomic
def record_failure(*, scope: str, key: str, window: timedelta) -> None:
    FailedAttempt.objects.create(scope=scope, key=key)
    # Old rows are useless past the window: trim them while we are here.
    FailedAttempt.objects.filter(scope=scope, key=key, at__lt=timezone.now() - window).delete()


@transaction.atomic
def clear_failures(*, scope: str, key: str) -> None:
    FailedAttempt.objects.filter(scope=scope, key=key).delete()
