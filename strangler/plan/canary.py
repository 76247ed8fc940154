"""`gates.canary` in plan.yaml: the thresholds of the canary analysis that gates leaving a split.

Like Flagger's analysis, a step that gives a canary more of a route's reads than a split step
does is applied only when, over the last `window_minutes` at the split step, on every split
route where the canary and the primary each served at least `min_requests` reads (at least one
route must have: thinner routes are not judged alone), the canary's 5xx rate is at most
`max_error_rate_increase` above the primary's, and its p99 at most `max_p99_ratio` times the
primary's. nginx times requests to the millisecond, so p99s under `p99_floor_ms` count as
`p99_floor_ms`: 2 ms against 4 ms is noise, not a regression. `strangler.proxy.canary` applies
them.

    gates:
      canary: {max_error_rate_increase: 0.01, max_p99_ratio: 1.5, min_requests: 50,
               window_minutes: 5, p99_floor_ms: 10}
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from strangler.plan.strict import Strict


class CanaryGateIn(Strict):
    max_error_rate_increase: float = Field(default=0.01, ge=0.0, le=1.0)
    # Below 1 would ask the canary to be faster than the primary, which is rarely what a
    # plan means (0.5 written for "50% slower at most" would refuse every canary).
    max_p99_ratio: float = Field(default=1.5, ge=1.0, le=100.0)
    p99_floor_ms: float = Field(default=10.0, ge=0.0, le=60_000.0)
    min_requests: int = Field(default=50, ge=1, le=10_000_000)
    window_minutes: float = Field(default=5.0, gt=0.0, le=1440.0)


@dataclass(frozen=True, slots=True)
class CanaryGate:
    max_error_rate_increase: float
    max_p99_ratio: float
    p99_floor_ms: float
    min_requests: int
    window_minutes: float

    @classmethod
    def from_spec(cls, spec: CanaryGateIn) -> CanaryGate:
        return cls(**spec.model_dump())
