"""Two answers to one request, field by field.

The same comparison serves twice, as in Twitter's Diffy: the primary against itself asked again
(its "secondary" answer), whose differences are noise, and the primary against the shadow,
whose differences are what the report is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .fields import STATUS, Leaf, flatten, parse, same


class Absent:
    """The value of a field one answer lacks."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = Absent()


@dataclass(frozen=True)  # no slots: `leaves` is parsed once and cached on the instance
class Answer:
    """One backend's answer as the proxy's shadow log keeps it."""

    backend: str
    status: int | None  # None: no answer (`error` says why)
    body: str
    truncated: bool = False  # cut at the proxy's shadow_body_limit
    error: str | None = None
    time: float = 0.0

    @classmethod
    def from_log(cls, raw: Mapping[str, Any] | None) -> Answer | None:
        if not raw:
            return None
        status = raw.get("status")
        return cls(
            backend=str(raw.get("backend") or "?"),
            status=status if isinstance(status, int) else None,
            body=raw.get("body") or "",
            truncated=bool(raw.get("truncated")),
            error=raw.get("error") or None,
            time=float(raw.get("time") or 0),
        )

    @property
    def outcome(self) -> int | str:
        """The value of the `status` field: the status, or why there was none."""
        if self.status is not None:
            return self.status
        return f"no answer ({self.error or 'unknown error'})"

    @cached_property
    def leaves(self) -> dict[str, Leaf]:
        return flatten(parse(self.body))

    @cached_property
    def fields(self) -> frozenset[str]:
        """Every field this answer has, `status` included."""
        return frozenset({STATUS, *(leaf.field for leaf in self.leaves.values())})


@dataclass(frozen=True, slots=True)
class Difference:
    """The first place where a field differs: its exact path and both values (ABSENT when one
    answer lacks it)."""

    field: str
    path: str
    left: Any
    right: Any


def differences(left: Answer, right: Answer) -> dict[str, Difference]:
    """Field -> its first difference, for every field whose values differ. Answers of different
    statuses differ in `status` only: a 404's body says nothing about a 200's."""
    if left.outcome != right.outcome:
        return {STATUS: Difference(STATUS, STATUS, left.outcome, right.outcome)}
    ours, theirs = left.leaves, right.leaves
    found: dict[str, Difference] = {}
    for path in {**ours, **theirs}:
        mine, other = ours.get(path), theirs.get(path)
        field = (ours.get(path) or theirs[path]).field
        if field in found:
            continue
        a = mine.value if mine else ABSENT
        b = other.value if other else ABSENT
        if mine is None or other is None or not same(a, b):
            found[field] = Difference(field, path, a, b)
    return found
