"""Compensations: recorded before a remote call, settled with the local write, run at once on
failure and by the sweeper when the process died in between."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from strangler.sync import compensations
from strangler.sync.models import Compensation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def undone(request):
    calls: list[str] = []
    failing: set[str] = set()

    def action(key: str) -> None:
        if key in failing:
            raise ConnectionError(f"{key}: unreachable")
        calls.append(key)

    compensations.register("test.undo", action)
    return calls, failing


def test_a_settled_call_is_never_undone(undone):
    calls, _ = undone
    with compensations.compensated(action="test.undo", key="k1") as undo, transaction.atomic():
        undo.settle()

    assert calls == []
    assert not Compensation.objects.exists()
    assert compensations.sweep() == 0


def test_a_failure_after_the_call_undoes_it_at_once(undone):
    calls, _ = undone
    with pytest.raises(RuntimeError), compensations.compensated(action="test.undo", key="k1"):
        raise RuntimeError("the local write failed")

    assert calls == ["k1"]
    assert not Compensation.objects.exists()


def test_an_undo_that_fails_stays_due_with_a_backoff_until_it_succeeds(undone):
    calls, failing = undone
    failing.add("k1")
    with pytest.raises(RuntimeError), compensations.compensated(action="test.undo", key="k1"):
        raise RuntimeError("the local write failed")

    row = Compensation.objects.get()
    assert row.attempts == 1
    assert "unreachable" in row.last_error
    assert row.due_at > timezone.now()
    assert compensations.sweep() == 0  # not due yet

    failing.clear()
    Compensation.objects.update(due_at=timezone.now())
    assert compensations.sweep() == 1
    assert calls == ["k1"]


def test_a_call_whose_process_died_is_undone_by_the_sweeper_once_due(undone):
    calls, _ = undone
    # What a process that died between the call and its local write leaves behind.
    Compensation.objects.create(
        key="k1", action="test.undo", due_at=timezone.now() + timedelta(seconds=30)
    )

    assert compensations.sweep() == 0
    Compensation.objects.update(due_at=timezone.now())
    assert compensations.sweep() == 1
    assert calls == ["k1"]
    assert compensations.pending()["pending"] == 0


def test_a_scheduled_undo_runs_after_its_transaction_commits(undone):
    calls, _ = undone
    with transaction.atomic():
        compensations.schedule(action="test.undo", key="k1")
        assert calls == []

    assert calls == ["k1"]
    assert not Compensation.objects.exists()


def test_a_scheduled_undo_rolled_back_with_its_transaction_never_runs(undone):
    calls, _ = undone
    with pytest.raises(RuntimeError), transaction.atomic():
        compensations.schedule(action="test.undo", key="k1")
        raise RuntimeError("the cancel failed")

    assert calls == []
    assert not Compensation.objects.exists()


def test_compensated_refuses_to_start_inside_a_transaction(undone):
    with (
        transaction.atomic(),
        pytest.raises(RuntimeError),
        compensations.compensated(action="test.undo", key="k1"),
    ):
        pass
