"""The attempt counter behind login lockouts: atomic under concurrency, windowed, purged."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from strangler.models import FailureCount
from strangler.service.throttle import TooManyFailures, clear_failures, count_attempt

WINDOW = timedelta(minutes=5)


def attempt(key: str = "ann|10.0.0.1", limit: int = 3) -> None:
    count_attempt(scope="test", key=key, limit=limit, window=WINDOW)


@pytest.mark.django_db
def test_attempts_beyond_the_limit_are_refused_until_the_window_ends():
    for _ in range(3):
        attempt()
    with pytest.raises(TooManyFailures) as refused:
        attempt()
    assert 0 < refused.value.retry_after_seconds <= WINDOW.total_seconds() + 1
    FailureCount.objects.update(started_at=timezone.now() - WINDOW - timedelta(seconds=1))
    attempt()  # a new window
    assert FailureCount.objects.get().count == 1


@pytest.mark.django_db
def test_keys_are_counted_apart_and_cleared_on_success():
    for _ in range(3):
        attempt("ann|10.0.0.1")
    attempt("ann|10.0.0.2")
    clear_failures(scope="test", key="ann|10.0.0.1")
    attempt("ann|10.0.0.1")
    assert dict(FailureCount.objects.values_list("key", "count")) == {
        "ann|10.0.0.1": 1,
        "ann|10.0.0.2": 1,
    }


@pytest.mark.django_db
def test_expired_counts_are_purged_by_the_next_attempt():
    for n in range(5):
        attempt(f"random{n}@example.com|10.0.0.9")
    FailureCount.objects.update(started_at=timezone.now() - WINDOW - timedelta(seconds=1))
    FailureCount.objects.create(
        scope="other", key="x", count=1, started_at=timezone.now() - 2 * WINDOW
    )
    attempt("fresh|10.0.0.9")
    assert sorted(FailureCount.objects.values_list("scope", "key")) == [
        ("other", "x"),  # another scope has its own window: its own attempts purge it
        ("test", "fresh|10.0.0.9"),
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_are_each_counted_once():
    """Threads on their own connections: the check and the count are one statement, so no
    more than `limit` attempts pass however they interleave (rows per attempt let many
    requests read the same count before any of them wrote)."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    threads, limit = 16, 5
    passed, refused = [], []
    start = threading.Barrier(threads)

    def run() -> None:
        try:
            start.wait()
            attempt("target|10.0.0.1", limit=limit)
            passed.append(1)
        except TooManyFailures:
            refused.append(1)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert (len(passed), len(refused)) == (limit, threads - limit)
    assert FailureCount.objects.get(key="target|10.0.0.1").count == threads
