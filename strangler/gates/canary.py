"""The canary gate: a step that promotes a canary of the current step's split routes is held
unless the canary analysis passes (strangler.proxy.canary, the plan's `gates.canary`)."""

from __future__ import annotations

from collections.abc import Iterator

from strangler.proxy.canary import promotions

from .move import Check, Move


def check(move: Move) -> Iterator[Check]:
    if not promotions(current=move.current, target=move.target):
        return
    analysis = move.facts.canary(move.current, move.target)
    for reason in analysis.reasons:
        yield Check("canary", False, reason)
    if analysis.passed:
        canaries = ", ".join(dict.fromkeys(p.canary for p in analysis.promotions))
        yield Check(
            "canary",
            True,
            f"{canaries} served as well as the primary over the last {analysis.minutes:g} min",
        )
