"""Which routes the shadow report vouches for when a step leaves a shadow step: `strangle apply
3-catalog-canary` is refused while the catalog's answers, compared at `2-catalog-shadow`,
differ from the monolith's beyond the plan's `gates.shadow` (the shadow gate,
strangler.gates.shadow)."""

from __future__ import annotations

from strangler.plan import Step

from .report import shadowed


def gated_routes(current: Step, target: Step) -> tuple[str, ...]:
    """The routes `current` shadows that `target` has served, wholly or in part, by another
    backend than `current`'s primary: what the shadow comparison vouches for."""
    moved = []
    for name, now in shadowed(current).items():
        then = target.targets[name]
        serving = {then.backend, *(backend for backend, weight in then.split if weight)}
        if serving != {now.backend}:
            moved.append(name)
    return tuple(moved)
