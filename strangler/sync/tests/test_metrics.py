"""The sync's metrics on the backend's /metrics: event outcomes and lag counted once the batch is
committed, the outbox backlog per aggregate read when scraped."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounts import services as accounts
from strangler.sync.consumer import Event, apply_events
from strangler.sync.models import OutboxEvent

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def user_event(user_id: int, version: int, *, written_ago: float) -> Event:
    return Event(
        event_id=str(uuid.uuid4()),
        source="auth",
        aggregate_type="user",
        aggregate_id=str(user_id),
        version=version,
        payload={
            "email": f"user{user_id}@example.com",
            "name": "Copied",
            "password": "pbkdf2_sha256$1$salt$hash",
            "is_staff": False,
            "is_superuser": False,
            "is_active": True,
            "date_joined": "2026-01-02T03:04:05.000006Z",
        },
        deleted=False,
        created_at=timezone.now() - timedelta(seconds=written_ago),
    )


def outcome(figures, name: str) -> float:
    return figures.get(
        ("strangler_sync_events_total", (("aggregate", "user"), ("outcome", name))), 0.0
    )


def test_applied_duplicate_and_stale_events_are_counted_and_the_lag_of_applied_ones_observed(
    client, django_capture_on_commit_callbacks
):
    before = scrape(client)
    newer, older = user_event(5001, 2, written_ago=3.0), user_event(5001, 1, written_ago=3.0)
    with django_capture_on_commit_callbacks(execute=True):
        apply_events([newer, older])  # the newer applied, the older stale
    with django_capture_on_commit_callbacks(execute=True):
        apply_events([newer])  # a redelivery
    after = scrape(client)
    assert {
        name: outcome(after, name) - outcome(before, name)
        for name in ("applied", "stale", "duplicate")
    } == {"applied": 1, "stale": 1, "duplicate": 1}
    lag = ("strangler_sync_lag_seconds_bucket", (("aggregate", "user"), ("le", "2.5")))
    count = ("strangler_sync_lag_seconds_count", (("aggregate", "user"),))
    assert after[count] - before.get(count, 0.0) == 1
    # Written 3 s before it was applied: above the 2.5 s bucket.
    assert after[lag] - before.get(lag, 0.0) == 0


def test_a_batch_rolled_back_counts_nothing(client, django_capture_on_commit_callbacks):
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        apply_events([user_event(5002, 1, written_ago=0.1)])
    assert len(callbacks) == 1  # waits for the commit, which a rolled back batch never has
    assert outcome(scrape(client), "applied") == outcome(before, "applied")


def test_the_outbox_backlog_is_counted_per_aggregate_when_scraped_and_zero_when_drained(client):
    pending = ("strangler_outbox_pending", (("aggregate", "user"),))
    assert scrape(client)[pending] == 0
    accounts.register_user(email="ann@example.com", password="ann-pass-1234", name="Ann")
    accounts.register_user(email="bob@example.com", password="bob-pass-1234", name="Bob")
    assert scrape(client)[pending] == 2
    OutboxEvent.objects.update(sent_at=timezone.now())
    assert scrape(client)[pending] == 0


def test_requests_are_counted_by_django_prometheus(client):
    name = "django_http_requests_total_by_method_total"
    before = scrape(client).get((name, (("method", "GET"),)), 0.0)
    client.get("/healthz")
    assert scrape(client)[(name, (("method", "GET"),))] >= before + 2  # /healthz, /metrics
