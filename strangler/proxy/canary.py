"""Canary analysis, as Flagger does it: a canary is promoted only if it serves as well as the
primary it is compared with.

A step that splits a route's reads sends them to a primary (the route's backend at that step,
its domain's write owner) and to canaries. Moving forward to a step that gives a canary a
larger share of a split route (the next step, or any later one: skipping ahead promotes it
just the same) is a promotion, and each one is judged on the access log of the split step.
A route is judged when the canary and the primary each served `min_requests` of its reads in
the last `window_minutes` (at least one route must be, or there is nothing to judge): the
canary's 5xx rate must not exceed the primary's by more than
`max_error_rate_increase`, nor its p99 the primary's by more than `max_p99_ratio` times
(`gates.canary` in the plan, strangler.plan.canary). A canary's errors include the reads the
fallback answered for it (strangler.proxy.traffic.summarise_split). Moving back, or to a
step that gives the canary less, is never judged: a rollback must always be possible.

`analyse` is the pure judgement over per-backend traffic; the canary gate of the can-flip
verdict (strangler.gates.canary) applies it before `strangle apply` changes anything, and
`strangle status` shows the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from strangler.plan import CanaryGate, Plan, Step
from strangler.proxy.admin import AdminClient
from strangler.proxy.site import Site
from strangler.proxy.traffic import Traffic, summarise_split


@dataclass(frozen=True, slots=True)
class Promotion:
    """`canary` gets more of `route`'s reads at the target step than beside `primary` now."""

    route: str
    primary: str
    canary: str


@dataclass(frozen=True, slots=True)
class Analysis:
    step: str  # the split step whose traffic was judged
    target: str
    minutes: float
    promotions: tuple[Promotion, ...]
    reasons: tuple[str, ...]  # why the target step is refused; empty when it may be applied

    @property
    def passed(self) -> bool:
        return not self.reasons

    def summary(self) -> str:
        """'passes', or the first reason to refuse and how many more there are."""
        if not self.reasons:
            return "passes"
        more = len(self.reasons) - 1
        return self.reasons[0] + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def promotions(*, current: Step, target: Step) -> tuple[Promotion, ...]:
    """The canaries of `current`'s split routes that moving to `target` promotes."""
    if target.index <= current.index:
        return ()
    found = []
    for route, now in current.targets.items():
        if not now.split:
            continue
        weights = dict(now.split)
        # The owner is the primary; a split that leaves it out compares with its heaviest.
        primary = now.backend if weights.get(now.backend) else max(now.split, key=_weight)[0]
        later = target.targets[route]
        for backend, weight in now.split:
            if backend != primary and weight and later.read_share(backend) > weight:
                found.append(Promotion(route=route, primary=primary, canary=backend))
    return tuple(found)


def analyse(
    promoted: tuple[Promotion, ...],
    traffic: Mapping[tuple[str, str], Traffic],
    *,
    gate: CanaryGate,
    step: str,
) -> tuple[str, ...]:
    """Every reason to refuse the promotions, in route order; `traffic` is per (route, backend
    the split chose) at `step` (strangler.proxy.traffic.summarise_split)."""
    reasons: list[str] = []
    # A route with too few reads on a side is not judged alone (reads spread unevenly over
    # routes); with too few on every route there is nothing to judge, and that refuses.
    thin: list[str] = []
    judged = 0
    for promotion in promoted:
        route, primary, canary = promotion.route, promotion.primary, promotion.canary
        ours, theirs = traffic.get((route, canary)), traffic.get((route, primary))
        too_few = [
            f"{name} served {seen.requests if seen else 0}"
            for name, seen in ((canary, ours), (primary, theirs))
            if seen is None or seen.requests < gate.min_requests
        ]
        if too_few or ours is None or theirs is None:
            thin.append(f"on {route} {' and '.join(too_few)}")
            continue
        judged += 1
        if ours.error_rate - theirs.error_rate > gate.max_error_rate_increase:
            reasons.append(
                f"{canary}'s 5xx rate on {route} is {ours.error_rate:.1%}, more than "
                f"{primary}'s {theirs.error_rate:.1%} + {gate.max_error_rate_increase * 100:g} "
                "points (gates.canary.max_error_rate_increase)"
            )
        # Both served min_requests (at least one), so both have a p99.
        mine, base, floor = ours.p99_ms or 0.0, theirs.p99_ms or 0.0, gate.p99_floor_ms
        if max(mine, floor) > gate.max_p99_ratio * max(base, floor):
            counted = f" (counted as {floor:g} ms: gates.canary.p99_floor_ms)"
            reasons.append(
                f"{canary}'s p99 on {route} is {mine:.0f} ms, more than "
                f"{gate.max_p99_ratio:g} times {primary}'s {base:.0f} ms"
                f"{counted if base < floor else ''}"
            )
    if promoted and not judged:
        canaries = " and ".join(dict.fromkeys(p.canary for p in promoted))
        reasons.append(
            f"too few requests to judge {canaries}: {'; '.join(thin)} in the last "
            f"{gate.window_minutes:g} min at {step}, fewer than {gate.min_requests} on each side "
            "of at least one split route (gates.canary.min_requests)"
        )
    return tuple(reasons)


def _weight(member: tuple[str, int]) -> int:
    return member[1]


def judge(*, site: Site, plan: Plan, current: Step, target: Step) -> Analysis:
    """The analysis of moving from `current` to `target`, on the proxy's metrics of the last
    `gates.canary.window_minutes` (read only when the move promotes a canary)."""
    gate = plan.gates.canary
    promoted = promotions(current=current, target=target)
    reasons: tuple[str, ...] = ()
    if promoted:
        admin = AdminClient.for_site(site)
        try:
            text = admin.metrics(minutes=gate.window_minutes)
        finally:
            admin.close()
        if text is None:
            url = admin.metrics_url(minutes=gate.window_minutes)
            reasons = (f"the proxy's metrics did not answer at {url}: nothing to judge",)
        else:
            traffic = summarise_split(text, step=current.id)
            reasons = analyse(promoted, traffic, gate=gate, step=current.id)
    return Analysis(
        step=current.id,
        target=target.id,
        minutes=gate.window_minutes,
        promotions=promoted,
        reasons=reasons,
    )
