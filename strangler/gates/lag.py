"""The sync-lag gate: the outboxes of the backends a flip involves (those the current and the
target step need) are within the plan's `gates.sync`: at most `max_pending` unsent events
each, the oldest at most `max_lag_seconds` old."""

from __future__ import annotations

from collections.abc import Iterator

from .move import Check, Move


def check(move: Move) -> Iterator[Check]:
    limits = move.plan.gates.sync
    names = dict.fromkeys((*move.current.needed_backends(), *move.target.needed_backends()))
    for name in names:
        row = move.facts.sync_lag[name]
        if row["error"]:
            yield Check("sync-lag", False, f"{name}'s outbox is unknown: {row['error']}")
            continue
        pending, oldest = row["pending"], row["oldest_seconds"] or 0.0
        if pending > limits.max_pending:
            yield Check(
                "sync-lag",
                False,
                f"{name} has {pending} unsent events, more than {limits.max_pending} "
                "(gates.sync.max_pending): is its relay running?",
            )
        elif oldest > limits.max_lag_seconds:
            yield Check(
                "sync-lag",
                False,
                f"{name}'s oldest unsent event is {oldest:.1f}s old, more than "
                f"{limits.max_lag_seconds:g}s (gates.sync.max_lag_seconds): is its relay running?",
            )
        else:
            yield Check("sync-lag", True, f"{name}: {pending} unsent, oldest {oldest:.1f}s")
