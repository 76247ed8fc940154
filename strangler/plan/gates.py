"""`gates`: what a step must show before the next one may be applied, checked against the
routes and steps it refers to. Each gate is its own section and its own function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType

from strangler.plan.canary import CanaryGate
from strangler.plan.model import (
    ContractGateSettings,
    Gates,
    Route,
    ShadowGateSettings,
    Step,
    SyncGateSettings,
)
from strangler.plan.schema import GatesIn, ShadowGateIn

# issue(message, key=...): how the plan builder records a problem.
Issue = Callable[..., None]


def build_gates(
    parsed: GatesIn, *, routes: Sequence[Route], steps: Sequence[Step], issue: Issue
) -> Gates:
    return Gates(
        canary=CanaryGate.from_spec(parsed.canary),
        shadow=_shadow(parsed.shadow, routes=routes, steps=steps, issue=issue),
        sync=SyncGateSettings(**parsed.sync.model_dump()),
        contract=ContractGateSettings(**parsed.contract.model_dump()),
    )


def _shadow(
    parsed: ShadowGateIn, *, routes: Sequence[Route], steps: Sequence[Step], issue: Issue
) -> ShadowGateSettings:
    names = {route.name for route in routes}
    shadowed = {name for step in steps for name, t in step.targets.items() if t.shadow}
    ignore = {}
    for route, fields in parsed.ignore.items():
        key = f"gates.shadow.ignore.{route}"
        if route not in names:
            issue(f"unknown route {route!r}", key=key)
        elif route not in shadowed:
            # A rule no report can apply is a typo or a leftover; either way, say so.
            issue(f"no step shadows route {route!r}", key=key)
        ignore[route] = tuple(dict.fromkeys(fields))
    return ShadowGateSettings(
        max_differing_rate=parsed.max_differing_rate,
        min_compared=parsed.min_compared,
        noise_min_share=parsed.noise_min_share,
        ignore=MappingProxyType(ignore),
    )
