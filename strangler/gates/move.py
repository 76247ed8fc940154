"""What a gate judges: a move between two steps of a plan on a site, and the facts of the
running system it reads (each asked once, so `strangle status` shows the figures it judged)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from strangler.plan import Plan, Step
from strangler.proxy import health as backend_health
from strangler.proxy.canary import Analysis, judge
from strangler.proxy.site import Site
from strangler.sync.cli import sync_lag


class Direction(StrEnum):
    FORWARD = "forward"
    BACK = "back"
    NOWHERE = "nowhere"


@dataclass(frozen=True, slots=True)
class Check:
    gate: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.gate}: {self.detail}"

    def as_json(self) -> dict:
        return {"gate": self.gate, "ok": self.ok, "detail": self.detail}


class Facts:
    """What the gates read from the running system, each asked once: `strangle status` shows
    the same figures it judges."""

    def __init__(self, site: Site, plan: Plan) -> None:
        self.site, self.plan = site, plan
        self._health: dict[str, list[backend_health.Health]] = {}  # one per instance
        self._canary: dict[tuple[str, str], Analysis] = {}

    def health(self, names: Iterable[str]) -> list[backend_health.Health]:
        names = list(dict.fromkeys(names))
        missing = [self.plan.backends[name] for name in names if name not in self._health]
        for result in backend_health.check_all(missing):
            self._health.setdefault(result.backend, []).append(result)
        return [result for name in names for result in self._health[name]]

    @cached_property
    def sync_lag(self) -> dict[str, dict]:
        return {row["backend"]: row for row in sync_lag(self.plan)}

    def canary(self, current: Step, target: Step) -> Analysis:
        key = (current.id, target.id)
        if key not in self._canary:
            self._canary[key] = judge(
                site=self.site, plan=self.plan, current=current, target=target
            )
        return self._canary[key]


@dataclass(frozen=True)
class Move:
    plan: Plan
    current: Step  # the recorded step; the plan's first when none is recorded
    target: Step
    direction: Direction
    site: Site
    facts: Facts = field(repr=False)


# A gate: what it judged at the move.
Gate = Callable[[Move], Iterable[Check]]


def direction_of(current: Step, target: Step, *, rollback: bool) -> Direction:
    if target.index == current.index:
        return Direction.NOWHERE
    return Direction.BACK if rollback or target.index < current.index else Direction.FORWARD
