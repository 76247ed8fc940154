"""Whatever the broker does to the owner's events (duplicates, reorders, delays, batches them
differently, spreads them over partitions), a copy converges to the owner's final state."""

import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from strangler.sync import partitions, registry
from strangler.sync.consumer import Event, apply_events
from strangler.sync.models import AggregateVersion, InboxEvent, OutboxEvent
from strangler.sync.states import EventOutcome

pytestmark = pytest.mark.django_db

USER_IDS = (101, 102, 103)
FIELD_VALUES = {
    "name": st.sampled_from(["Ann", "Bob", "Cy", "Dee"]),
    "password": st.sampled_from(["md5$$a", "md5$$b", "argon2$x"]),
    "is_active": st.booleans(),
    "is_staff": st.booleans(),
    "date_joined": st.sampled_from(["2026-01-02T03:04:05Z", "2025-12-31T23:59:59.999999Z"]),
}
change = st.one_of(
    st.tuples(st.sampled_from(USER_IDS), st.just("delete"), st.none()),
    *(
        st.tuples(st.sampled_from(USER_IDS), st.just(field), values)
        for field, values in FIELD_VALUES.items()
    ),
)


def _owner_history(changes) -> tuple[list[Event], dict[str, tuple[int, dict | None]]]:
    """The events an owner records for `changes`, and its final state: per id, its version and
    payload (None once deleted). A deleted id is never used again, as on a real owner."""
    state: dict[str, tuple[int, dict | None]] = {}
    events = []
    for user_id, field, value in changes:
        key = str(user_id)
        version, payload = state.get(key, (0, None))
        if version and payload is None:
            continue  # deleted
        if field == "delete":
            if not version:
                continue  # nothing to delete yet
            payload = None
        else:
            payload = dict(
                payload
                or {
                    "email": f"user{user_id}@example.com",
                    "name": "New",
                    "password": "md5$$new",
                    "is_staff": False,
                    "is_superuser": False,
                    "is_active": True,
                    "date_joined": "2026-01-01T00:00:00Z",
                }
            )
            payload[field] = value
        state[key] = (version + 1, payload)
        events.append(
            Event(
                event_id=str(uuid.uuid4()),
                source="auth",
                aggregate_type="user",
                aggregate_id=key,
                version=version + 1,
                payload=payload,
                deleted=payload is None,
            )
        )
    return events, state


def _deliveries(events: list[Event], data) -> list[list[Event]]:
    """The events as a broker may hand them over: some twice or three times, in any order,
    some held back to the end, cut into batches of any size."""
    copies = [e for e in events for _ in range(data.draw(st.integers(1, 3)))]
    shuffled = data.draw(st.permutations(copies))
    held_back = data.draw(st.sets(st.sampled_from(range(len(shuffled))))) if shuffled else set()
    order = [e for i, e in enumerate(shuffled) if i not in held_back] + [
        e for i, e in enumerate(shuffled) if i in held_back
    ]
    batches = []
    while order:
        size = data.draw(st.integers(1, len(order)))
        batches.append(order[:size])
        order = order[size:]
    return batches


def _by_partition(batch: list[Event]) -> list[list[Event]]:
    """A batch split as the relay splits it, one message per partition."""
    split: dict[int, list[Event]] = {}
    for event in batch:
        split.setdefault(partitions.of(event.aggregate_id), []).append(event)
    return list(split.values())


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=st.lists(change, min_size=1, max_size=25), data=st.data())
def test_a_copy_converges_to_the_owners_final_state_whatever_the_delivery(changes, data):
    events, final = _owner_history(changes)
    batches = _deliveries(events, data)
    split = data.draw(st.booleans())
    aggregate = registry.by_name("user")

    with transaction.atomic():
        outcomes: dict[str, set[str]] = {}
        for batch in batches:
            for message in _by_partition(batch) if split else [batch]:
                for event_id, outcome in apply_events(message).items():
                    outcomes.setdefault(event_id, set()).add(outcome)

        for key, (version, payload) in final.items():
            held = AggregateVersion.objects.get(aggregate_type="user", aggregate_id=key)
            assert held.version == version
            copy = User.objects.filter(pk=int(key)).first()
            if payload is None:
                assert copy is None
            else:
                assert copy is not None
                assert aggregate.payload(copy) == payload
        assert User.objects.count() == sum(1 for _, p in final.values() if p is not None)
        # Each event was judged once (applied or stale); every later delivery is a duplicate.
        assert set(outcomes) == {e.event_id for e in events}
        for judged in outcomes.values():
            assert len(judged - {EventOutcome.DUPLICATE}) == 1
            assert judged <= {EventOutcome.APPLIED, EventOutcome.STALE, EventOutcome.DUPLICATE}
        assert InboxEvent.objects.count() == len(events)
        assert not OutboxEvent.objects.exists()  # applying never emits
        transaction.set_rollback(True)  # each example starts from an empty copy
