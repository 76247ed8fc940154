"""Compensation for calls on another domain's owner, with no distributed transaction.

A backend that reserves something remotely (stock on the catalog's owner) and then writes
locally (the order) records first, in its own committed row, what undoes the remote call:

    with compensated(action="catalog.release_stock", key=key) as undo:
        reserve remotely under key        # idempotent on the key
        with transaction.atomic():
            write the order
            undo.settle()                 # the undo row goes with the order's commit

- the block raises (the reservation refused, the order's write failed): the undo runs at once;
- the process dies anywhere in between: the row stays, and the sweeper (`sweep`, run
  periodically by Celery beat) runs the undo once the row is due;
- an undo that fails (its target unreachable) stays due, and is retried with a backoff.

Undo actions are idempotent (a release of a key released or never reserved changes nothing),
so running one twice, or for a call that never arrived, is harmless. `schedule` records an undo
to run after a local commit (a cancelled order gives its stock back): the commit and the
record are one transaction, so the release is never forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Compensation

logger = logging.getLogger(__name__)

Action = Callable[[str], None]
_actions: dict[str, Action] = {}

# A recorded undo becomes due this long after its call: the call and the local write that
# settles it take well under this, so a live checkout is never undone under its feet.
DUE_AFTER = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=5)


def register(name: str, action: Action) -> None:
    """Names an undo action (`action(key)`), in the app's ready()."""
    _actions[name] = action


@dataclass
class Undo:
    key: str
    action: str

    def settle(self) -> None:
        """Inside the local write's transaction: the call's effect is wanted, keep it."""
        settle(key=self.key)

    def run(self) -> bool:
        """Undoes the call now; False (and left for the sweeper) when the undo fails."""
        return _run(self.key, self.action)


@contextmanager
def compensated(*, action: str, key: str) -> Iterator[Undo]:
    if action not in _actions:
        raise LookupError(f"no compensation action named {action!r}")
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("compensated() must start outside a transaction: its record commits")
    Compensation.objects.create(key=key, action=action, due_at=timezone.now() + DUE_AFTER)
    undo = Undo(key=key, action=action)
    try:
        yield undo
    except BaseException:
        if Compensation.objects.filter(key=key).exists():
            undo.run()
        raise


def settle(*, key: str) -> None:
    """Inside a local write's transaction: the undo recorded under `key` is no longer wanted."""
    Compensation.objects.filter(key=key).delete()


def schedule(*, action: str, key: str) -> None:
    """Inside a local write's transaction: run the undo once it commits (and, should that
    fail, from the sweeper)."""
    if action not in _actions:
        raise LookupError(f"no compensation action named {action!r}")
    Compensation.objects.update_or_create(
        key=key, defaults={"action": action, "due_at": timezone.now()}
    )
    transaction.on_commit(lambda: _run(key, action))


def _run(key: str, action: str) -> bool:
    try:
        _actions[action](key)
    except Exception as exc:  # any failure leaves the undo for the sweeper
        logger.warning("compensation %s(%s) failed, will retry: %s", action, key, exc)
        row = Compensation.objects.filter(key=key).first()
        if row is not None:
            row.attempts += 1
            row.last_error = str(exc)[:1000]
            row.due_at = timezone.now() + min(MAX_BACKOFF, DUE_AFTER * 2**row.attempts)
            row.save(update_fields=["attempts", "last_error", "due_at"])
        return False
    Compensation.objects.filter(key=key).delete()
    return True


def sweep(*, limit: int = 100) -> int:
    """Runs the undos that are due; how many succeeded."""
    due = Compensation.objects.filter(due_at__lte=timezone.now()).order_by("due_at")[:limit]
    return sum(_run(row.key, row.action) for row in list(due))


def pending() -> dict:
    """Undos not yet run: a checkout that died between its remote call and its local write
    shows here until the sweeper undoes it."""
    rows = Compensation.objects.all()
    oldest = rows.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "pending": rows.count(),
        "failing": rows.filter(attempts__gt=0).count(),
        "oldest_seconds": None if oldest is None else (timezone.now() - oldest).total_seconds(),
    }
