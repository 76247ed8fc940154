import uuid

import pytest
from django.db import transaction

from accounts import services as accounts
from accounts.models import User
from strangler.sync import registry
from strangler.sync.consumer import (
    Event,
    apply_event,
    apply_events,
    store,
)
from strangler.sync.models import AggregateVersion, InboxEvent, OutboxEvent
from strangler.sync.outbox import applying_event, record_change
from strangler.sync.states import EventOutcome

pytestmark = pytest.mark.django_db


def _register(email="ann@example.com") -> User:
    return accounts.register_user(email=email, password="ann-pass-1234", name="Ann")


def _event(user_id: int, version: int, **payload) -> Event:
    base = {
        "email": f"user{user_id}@example.com",
        "name": "Copied",
        "password": "pbkdf2_sha256$1$salt$hash",
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
        "date_joined": "2026-01-02T03:04:05.000006Z",
    }
    return Event(
        event_id=str(uuid.uuid4()),
        source="auth",
        aggregate_type="user",
        aggregate_id=str(user_id),
        version=version,
        payload={**base, **payload},
        deleted=False,
    )


def test_a_registration_writes_the_user_and_its_event_in_one_transaction():
    user = _register()
    event = OutboxEvent.objects.get()
    assert (event.aggregate_type, event.aggregate_id, event.version) == ("user", str(user.pk), 1)
    assert event.payload["email"] == "ann@example.com"
    assert event.payload["password"] == user.password
    assert event.sent_at is None


def test_a_rolled_back_change_leaves_no_event():
    with pytest.raises(RuntimeError), transaction.atomic():
        _register()
        raise RuntimeError("the request failed after the write")
    assert not User.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_each_change_of_an_aggregate_gets_the_next_version():
    user = _register()
    user.name = "Ann B."
    user.save()
    assert list(OutboxEvent.objects.order_by("id").values_list("version", flat=True)) == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    user = _register()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_change(user)


def test_an_event_is_applied_with_its_id_and_fields_and_not_emitted_again():
    assert apply_event(_event(4242, 1, name="Zoe")) == EventOutcome.APPLIED
    user = User.objects.get(pk=4242)
    assert user.name == "Zoe"
    assert user.password == "pbkdf2_sha256$1$salt$hash"
    assert AggregateVersion.objects.get(aggregate_type="user", aggregate_id="4242").version == 1
    assert not OutboxEvent.objects.exists()


def test_a_redelivered_event_is_a_no_op():
    event = _event(7, 1, name="First")
    assert apply_event(event) == EventOutcome.APPLIED
    with applying_event():  # a change no event announced, to show the redelivery keeps off it
        User.objects.filter(pk=7).update(name="Changed locally")
    assert apply_event(event) == EventOutcome.DUPLICATE
    assert User.objects.get(pk=7).name == "Changed locally"


def test_an_older_version_arriving_late_is_ignored():
    assert apply_event(_event(8, 2, name="Newer")) == EventOutcome.APPLIED
    assert apply_event(_event(8, 1, name="Older")) == EventOutcome.STALE
    assert User.objects.get(pk=8).name == "Newer"
    assert InboxEvent.objects.filter(outcome=EventOutcome.STALE).count() == 1


def test_a_deletion_event_removes_the_copy():
    apply_event(_event(9, 1))
    deletion = Event(
        event_id=str(uuid.uuid4()),
        source="auth",
        aggregate_type="user",
        aggregate_id="9",
        version=2,
        payload=None,
        deleted=True,
    )
    assert apply_event(deletion) == EventOutcome.APPLIED
    assert not User.objects.filter(pk=9).exists()


def test_payloads_round_trip_through_the_registry():
    user = _register()
    aggregate = registry.for_model(User)
    values = aggregate.values(aggregate.payload(user))
    assert values["email"] == user.email
    assert values["date_joined"] == user.date_joined


def test_copied_rows_are_stored_in_bulk_but_never_over_a_newer_version():
    aggregate = registry.by_name("user")
    apply_event(_event(11, 5, name="Live sync, version 5"))
    rows = [
        {"id": 11, "version": 4, "payload": _event(11, 4, name="Backfill, older").payload},
        {"id": 12, "version": 2, "payload": _event(12, 2, name="Backfill, new").payload},
    ]
    assert store(aggregate, rows) == {"12"}
    assert User.objects.get(pk=11).name == "Live sync, version 5"
    assert User.objects.get(pk=12).name == "Backfill, new"
    assert _version("11") == 5
    assert _version("12") == 2
    assert not OutboxEvent.objects.exists()


def test_a_row_of_the_same_version_is_not_written_again():
    aggregate = registry.by_name("user")
    apply_event(_event(13, 3, name="Live"))
    assert store(aggregate, [{"id": 13, "version": 3, "payload": _event(13, 3).payload}]) == set()
    assert User.objects.get(pk=13).name == "Live"


def test_within_one_call_the_highest_version_of_a_row_wins_whatever_its_place():
    aggregate = registry.by_name("user")
    rows = [
        {"id": 14, "version": 3, "payload": _event(14, 3, name="Third").payload},
        {"id": 14, "version": 1, "payload": _event(14, 1, name="First").payload},
        {"id": 14, "version": 2, "payload": _event(14, 2, name="Second").payload},
    ]
    assert store(aggregate, rows) == {"14"}
    assert User.objects.get(pk=14).name == "Third"
    assert _version("14") == 3


def test_a_live_event_older_than_a_backfilled_row_is_stale_and_changes_nothing():
    aggregate = registry.by_name("user")
    store(aggregate, [{"id": 15, "version": 6, "payload": _event(15, 6, name="Backfill").payload}])
    assert apply_event(_event(15, 5, name="Live, older")) == EventOutcome.STALE
    assert User.objects.get(pk=15).name == "Backfill"
    assert _version("15") == 6


def test_a_stale_deletion_keeps_the_newer_row():
    apply_event(_event(16, 4, name="Kept"))
    deletion = Event(
        event_id=str(uuid.uuid4()),
        source="auth",
        aggregate_type="user",
        aggregate_id="16",
        version=3,
        payload=None,
        deleted=True,
    )
    assert apply_event(deletion) == EventOutcome.STALE
    assert User.objects.get(pk=16).name == "Kept"


def test_a_batch_applies_each_event_once_and_reports_every_outcome():
    newer, older = _event(17, 2, name="Newer"), _event(17, 1, name="Older")
    seen = _event(18, 1, name="Seen before")
    apply_event(seen)
    outcomes = apply_events([older, seen, newer, newer])
    assert outcomes == {
        newer.event_id: EventOutcome.APPLIED,
        older.event_id: EventOutcome.STALE,
        seen.event_id: EventOutcome.DUPLICATE,
    }
    assert User.objects.get(pk=17).name == "Newer"
    assert InboxEvent.objects.count() == 3


def _version(aggregate_id: str) -> int:
    return AggregateVersion.objects.get(aggregate_type="user", aggregate_id=aggregate_id).version
