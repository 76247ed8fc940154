"""The health gate: every backend the target step needs answers its health path (200)."""

from __future__ import annotations

from collections.abc import Iterator

from .move import Check, Move


def check(move: Move) -> Iterator[Check]:
    results = move.facts.health(move.target.needed_backends())
    failed = [r for r in results if not r.ok]
    for r in failed:
        yield Check("health", False, f"{r.backend} at {r.url}: {r.detail}")
    if not failed:
        yield Check("health", True, f"{', '.join(r.backend for r in results)} healthy")
