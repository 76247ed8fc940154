"""A copy applies events only from backends that may own their domain: the plan's origin, the
backends whose `owns` names the domain, and the owner recorded here. The monolith's plan lets
the monolith and auth own the auth domain (users), never catalog."""

import dataclasses
import logging
import uuid

import pytest

from accounts.models import User
from strangler.sync.consumer import Event, apply_events
from strangler.sync.models import InboxEvent
from strangler.sync.ownership import set_ownership
from strangler.sync.states import EventOutcome, OwnershipState
from strangler.sync.tasks import apply_events_task

pytestmark = pytest.mark.django_db


def _user_event(source: str, user_id: int = 700, *, is_superuser: bool = False) -> Event:
    return Event(
        event_id=str(uuid.uuid4()),
        source=source,
        aggregate_type="user",
        aggregate_id=str(user_id),
        version=1,
        payload={
            "email": f"user{user_id}@example.com",
            "name": "Copied",
            "password": "pbkdf2_sha256$1$salt$hash",
            "is_staff": is_superuser,
            "is_superuser": is_superuser,
            "is_active": True,
            "date_joined": "2026-01-02T03:04:05.000006Z",
        },
        deleted=False,
    )


@pytest.mark.parametrize("source", ["catalog", "intruder"])
def test_an_event_from_a_backend_that_may_not_own_the_domain_is_refused_and_logged(source, caplog):
    event = _user_event(source, is_superuser=True)

    with caplog.at_level(logging.WARNING, logger="strangler.sync.consumer"):
        outcomes = apply_events([event])

    assert outcomes == {event.event_id: EventOutcome.REFUSED}
    assert not User.objects.filter(pk=700).exists()
    assert not InboxEvent.objects.exists()
    assert f"{source} may not own auth" in caplog.text


def test_events_from_the_plans_possible_owners_are_applied_whoever_owns_the_domain_now():
    # The monolith owns users here; auth's events are the reverse sync's, or late ones of a
    # flip that went back.
    from_auth = _user_event("auth", 701)

    assert apply_events([from_auth]) == {from_auth.event_id: EventOutcome.APPLIED}
    assert User.objects.filter(pk=701).exists()


def test_events_from_the_owner_recorded_here_are_applied():
    set_ownership(domain="auth", owner="elsewhere", state=OwnershipState.ACTIVE)
    event = _user_event("elsewhere", 702)

    assert apply_events([event]) == {event.event_id: EventOutcome.APPLIED}


def test_a_refused_event_does_not_hold_up_the_rest_of_its_batch():
    refused, applied = _user_event("catalog", 703), _user_event("auth", 704)

    outcomes = apply_events([refused, applied])

    assert outcomes == {
        refused.event_id: EventOutcome.REFUSED,
        applied.event_id: EventOutcome.APPLIED,
    }
    assert list(User.objects.values_list("pk", flat=True)) == [704]


def test_a_refused_event_id_does_not_turn_the_genuine_event_into_a_duplicate():
    forged = _user_event("catalog", 705)
    genuine = dataclasses.replace(forged, source="auth")

    apply_events([forged])

    assert apply_events([genuine]) == {genuine.event_id: EventOutcome.APPLIED}


def test_the_sync_task_counts_refused_events_and_does_not_retry_them(monkeypatch):
    monkeypatch.setattr(apply_events_task, "retry", pytest.fail)
    event = _user_event("catalog", 706)
    message = {**dataclasses.asdict(event), "created_at": "2026-01-02T03:04:05Z"}

    assert apply_events_task.apply(args=[[message]]).get() == {"refused": 1}
