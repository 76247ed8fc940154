"""Whether a step may flip, and why not: the gates of a move judged together.

A move goes forward (to a later step), back (`rollback`, or `apply` of an earlier step) or
nowhere (the current step again). Each direction has its gates:

  forward  health, backfill, parity, sync-lag, shadow, canary, contract
  back     health, backfill, parity: a rollback must always be possible once the step it goes
           back to is healthy and its data ready; a lagging outbox, a failing shadow report or
           canary, a contract suite that never ran are what one rolls back from
  nowhere  health

A gate yields a Check per thing it judged ({gate, ok, detail}); a gate with nothing to judge at
the move (no shadowed route moves, no canary is promoted) yields none. A gate that cannot judge
(a backend unreachable, the proxy's probe not answering) fails with why. The verdict is
negative when any check fails; its reasons are the failing checks, one line each,
"gate: detail".
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from strangler.errors import StranglerError
from strangler.plan import Plan, Step
from strangler.proxy.site import Site

from . import canary, contract, copies, health, lag, shadow
from .move import Check, Direction, Facts, Gate, Move, direction_of

# Failures a gate reports as its own failed check instead of raising.
UNJUDGED = (StranglerError, OSError, httpx.HTTPError)

FORWARD: tuple[tuple[str, Gate], ...] = (
    ("health", health.check),
    ("backfill", copies.backfill),
    ("parity", copies.parity),
    ("sync-lag", lag.check),
    ("shadow", shadow.check),
    ("canary", canary.check),
    ("contract", contract.check),
)
GATES: dict[Direction, tuple[tuple[str, Gate], ...]] = {
    Direction.FORWARD: FORWARD,
    Direction.BACK: FORWARD[:3],
    Direction.NOWHERE: FORWARD[:1],
}


@dataclass(frozen=True, slots=True)
class Verdict:
    step: str
    direction: Direction
    checks: tuple[Check, ...]

    @property
    def can_flip(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [check.line() for check in self.checks if not check.ok]

    def refusal(self) -> str | None:
        """The one line `apply` refuses with, or None when the step may flip."""
        if self.can_flip:
            return None
        return f"{self.step} cannot flip, nothing was changed: {'; '.join(self.reasons)}"

    def as_json(self) -> dict:
        return {
            "step": self.step,
            "can_flip": self.can_flip,
            "reasons": self.reasons,
            "direction": str(self.direction),
            "checks": [check.as_json() for check in self.checks],
        }


def judge_move(move: Move, *, only: tuple[str, ...] | None = None) -> Verdict:
    """Every check of every gate of the move's direction (`only`: those gates alone)."""
    checks: list[Check] = []
    for name, gate in GATES[move.direction]:
        if only is not None and name not in only:
            continue
        try:
            checks.extend(gate(move))
        except UNJUDGED as error:
            detail = str(error) if isinstance(error, StranglerError) else repr(error)
            checks.append(Check(name, False, f"could not be judged: {detail}"))
    return Verdict(step=move.target.id, direction=move.direction, checks=tuple(checks))


class Verdicts:
    """The verdict of a move on a site; the Controller's gate (strangler.proxy.control.Gate).

    `only` restricts the gates judged (tests of one gate's mechanics, in front of backends that
    answer nothing else); by default every gate of the move's direction is."""

    def __init__(self, site: Site | None = None, *, only: tuple[str, ...] | None = None) -> None:
        self._site = site
        self.only = only

    @property
    def site(self) -> Site:
        # Built when first needed: the CLI builds its gate before it knows what will run.
        if self._site is None:
            self._site = Site.from_env()
        return self._site

    def verdict(
        self,
        *,
        plan: Plan,
        current: Step | None,
        target: Step,
        rollback: bool = False,
        facts: Facts | None = None,
    ) -> Verdict:
        now = current or plan.steps[0]
        move = Move(
            plan=plan,
            current=now,
            target=target,
            direction=direction_of(now, target, rollback=rollback),
            site=self.site,
            facts=facts or Facts(self.site, plan),
        )
        return judge_move(move, only=self.only)

    def refusal(
        self, *, plan: Plan, current: Step | None, target: Step, rollback: bool
    ) -> str | None:
        return self.verdict(plan=plan, current=current, target=target, rollback=rollback).refusal()
