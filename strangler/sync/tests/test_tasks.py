import logging
import uuid

import pytest
from celery.exceptions import Retry
from django.db import OperationalError

from accounts.models import RefreshToken, User
from strangler.sync.models import InboxEvent
from strangler.sync.relay import APPLY_EVENTS_TASK
from strangler.sync.tasks import ORPHAN_RETRIES, apply_events_task

USER = {
    "email": "copied@example.com",
    "name": "Copied",
    "password": "md5$$hash",
    "is_staff": False,
    "is_superuser": False,
    "is_active": True,
    "date_joined": "2026-01-02T03:04:05Z",
}


def _message(aggregate_type: str, aggregate_id: int, version: int, payload: dict) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "source": "auth",
        "aggregate_type": aggregate_type,
        "aggregate_id": str(aggregate_id),
        "version": version,
        "payload": payload,
        "deleted": False,
        "created_at": "2026-01-02T03:04:05Z",
    }


def _token(user_id: int) -> dict:
    return {
        "user": user_id,
        "token_hash": uuid.uuid4().hex,
        "family": str(uuid.uuid4()),
        "created_at": "2026-01-02T03:04:05Z",
        "expires_at": "2099-01-01T00:00:00Z",
        "used_at": None,
        "revoked_at": None,
    }


@pytest.fixture
def retries(monkeypatch):
    """What the task asks Celery to retry, instead of a real retry."""
    asked = []

    def retry(*, countdown, args=None, kwargs=None, exc=None, **options):
        asked.append({"args": args, "kwargs": kwargs, "countdown": countdown, "exc": exc})
        return Retry("retry asked")

    monkeypatch.setattr(apply_events_task, "retry", retry)
    return asked


def test_the_task_is_registered_under_the_name_the_relay_sends():
    assert apply_events_task.name == APPLY_EVENTS_TASK


@pytest.mark.django_db
def test_a_batch_is_applied_and_its_outcomes_counted(retries):
    user = _message("user", 50, 1, USER)
    token = _message("refresh_token", 60, 1, _token(50))

    assert apply_events_task([user, token, user]) == {"applied": 2}
    assert apply_events_task([user]) == {"duplicate": 1}
    assert RefreshToken.objects.get(pk=60).user_id == 50
    assert retries == []


# Foreign keys are checked when the transaction commits: the test must let it commit.
@pytest.mark.django_db(transaction=True)
def test_an_event_whose_parent_is_missing_is_retried_alone_and_holds_up_no_other(retries):
    user = _message("user", 51, 1, USER)
    orphan = _message("refresh_token", 61, 1, _token(999))

    with pytest.raises(Retry):
        apply_events_task([user, orphan])

    assert User.objects.filter(pk=51).exists()
    assert not RefreshToken.objects.filter(pk=61).exists()
    (asked,) = retries
    assert asked["args"] == [[orphan]]
    assert asked["kwargs"] == {"orphan_retries": 1}
    # Not marked as seen: the retry (or a later redelivery) can still apply it.
    assert list(InboxEvent.objects.values_list("aggregate_type", flat=True)) == ["user"]


@pytest.mark.django_db(transaction=True)
def test_after_the_last_retry_an_orphan_is_logged_for_a_backfill_and_dropped(retries, caplog):
    orphan = _message("refresh_token", 62, 3, _token(999))
    with caplog.at_level(logging.ERROR, logger="strangler.sync.tasks"):
        assert apply_events_task.run([orphan], orphan_retries=ORPHAN_RETRIES) == {}

    assert retries == []
    assert "need a backfill" in caplog.text
    assert "('refresh_token', '62', 3)" in caplog.text


@pytest.mark.django_db
def test_a_batch_waits_for_its_unreachable_database_however_long_it_takes(retries, monkeypatch):
    lost = OperationalError("connection failed: server closed the connection unexpectedly")

    def unreachable(events):
        raise lost

    monkeypatch.setattr("strangler.sync.tasks.apply_events", unreachable)
    user = _message("user", 52, 1, USER)
    # Long past any retry limit: an outage of minutes is waited out, never given up on.
    apply_events_task.push_request(retries=10_000)
    try:
        with pytest.raises(Retry):
            apply_events_task.run([user])
    finally:
        apply_events_task.pop_request()

    (asked,) = retries
    assert asked["exc"] is lost
    assert asked["countdown"] == 5.0
    assert asked["args"] is None  # the whole batch, as it came
