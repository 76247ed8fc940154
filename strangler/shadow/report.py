"""The shadow report of a step, route by route: how many mirrored requests were compared, how
many of the shadow's answers differed from the primary's, in which fields (with an example),
what was left out (noise learned from the primary itself, the plan's ignore rules), and whether
the route passes the plan's `gates.shadow`.

Noise is learned as Twitter's Diffy learns it. The proxy asks the primary a second time
(its "secondary" answer), so every entry holds two answers of the primary to one request; a
field in which they differ cannot be judged on the shadow:

- in that entry, whatever the route does elsewhere (data that changed between the calls);
- in every entry of the route, once it differs in at least `noise_min_share` of the entries
  where it appears (timestamps, request ids, ordering ties).

`status` is only ever left out per entry: a primary that is sometimes down must not teach the
report to accept a shadow that always is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from strangler.plan import Plan, ShadowGateSettings, Step, Target

from .compare import Answer, Difference, differences
from .errors import ShadowError
from .fields import STATUS, covers


@dataclass(frozen=True, slots=True)
class Entry:
    """One mirrored request: the primary's answer, the shadow's, and the primary's second one
    (each None until it is logged, or once the bounded log evicted it)."""

    request_id: str
    route: str
    method: str
    uri: str
    primary: Answer | None
    shadow: Answer | None
    secondary: Answer | None = None

    @classmethod
    def from_log(cls, raw: Mapping[str, Any]) -> Entry:
        answers = [raw.get(side) or {} for side in ("primary", "shadow", "secondary")]
        first = next((answer for answer in answers if answer), {})
        return cls(
            request_id=str(raw.get("request_id") or ""),
            route=str(first.get("route") or ""),
            method=str(first.get("method") or ""),
            uri=str(first.get("uri") or ""),
            primary=Answer.from_log(raw.get("primary")),
            shadow=Answer.from_log(raw.get("shadow")),
            secondary=Answer.from_log(raw.get("secondary")),
        )


@dataclass(frozen=True, slots=True)
class Example:
    """Where a field differed: the request and both values (ABSENT when one side lacks it)."""

    request_id: str
    method: str
    uri: str
    path: str  # the exact place, e.g. results[3].price
    primary: Any
    shadow: Any


@dataclass(frozen=True, slots=True)
class FieldCount:
    field: str
    differing: int  # entries in which the shadow's value differed
    example: Example


@dataclass(frozen=True, slots=True)
class Noise:
    field: str
    noisy: int  # entries in which the primary's two answers differed in it
    seen: int  # entries with both primary answers, where either holds it

    @property
    def share(self) -> float:
        return self.noisy / self.seen if self.seen else 0.0


@dataclass(frozen=True, slots=True)
class RouteReport:
    route: str
    compared: int
    differing: int
    fields: tuple[FieldCount, ...]  # most often differing first
    noise: tuple[Noise, ...]  # learned for the route
    ignored: tuple[str, ...]  # the plan's rules for the route
    incomplete: int  # an answer not logged yet (in flight) or evicted: not compared
    truncated: int  # an answer cut at the proxy's shadow_body_limit: not compared
    without_secondary: int  # compared without the primary's second answer
    passed: bool
    reason: str  # why it failed, or why it was not judged; empty when judged and passed

    @property
    def differing_rate(self) -> float | None:
        return self.differing / self.compared if self.compared else None


class _Compared(NamedTuple):
    entry: Entry
    primary: Answer
    shadow: Answer
    own_noise: frozenset[str] | None  # see _own_noise


def route_report(
    route: str, entries: Iterable[Entry], *, settings: ShadowGateSettings
) -> RouteReport:
    rules = settings.ignored(route)

    def kept(field: str) -> bool:
        return not any(covers(rule, field) for rule in rules)

    compared: list[_Compared] = []
    incomplete = truncated = 0
    for entry in sorted(entries, key=_order):
        primary, shadow = entry.primary, entry.shadow
        if primary is None or shadow is None:
            incomplete += 1
        elif primary.truncated or shadow.truncated:
            truncated += 1
        else:
            compared.append(_Compared(entry, primary, shadow, _own_noise(primary, entry)))

    noise = _learned(compared, settings=settings, kept=kept)
    learned = {item.field for item in noise}
    counts: Counter[str] = Counter()
    examples: dict[str, Example] = {}
    differing = 0
    for item in compared:
        found = [
            difference
            for field, difference in differences(item.primary, item.shadow).items()
            if field not in learned and field not in (item.own_noise or ()) and kept(field)
        ]
        differing += bool(found)
        for difference in found:
            counts[difference.field] += 1
            examples.setdefault(difference.field, _example(item.entry, difference))

    fields = tuple(
        FieldCount(field=field, differing=count, example=examples[field])
        for field, count in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    )
    passed, reason = _verdict(len(compared), differing, fields, truncated, settings=settings)
    return RouteReport(
        route=route,
        compared=len(compared),
        differing=differing,
        fields=fields,
        noise=noise,
        ignored=rules,
        incomplete=incomplete,
        truncated=truncated,
        without_secondary=sum(item.own_noise is None for item in compared),
        passed=passed,
        reason=reason,
    )


def _order(entry: Entry) -> tuple[float, str]:
    return (entry.primary.time if entry.primary else 0.0, entry.request_id)


def _own_noise(primary: Answer, entry: Entry) -> frozenset[str] | None:
    """The fields in which the primary's two answers to this request differ; None without a
    usable second answer (the call failed, or its answer was cut)."""
    secondary = entry.secondary
    if secondary is None or secondary.status is None or secondary.truncated:
        return None
    return frozenset(differences(primary, secondary))


def _learned(
    compared: list[_Compared], *, settings: ShadowGateSettings, kept: Callable[[str], bool]
) -> tuple[Noise, ...]:
    noisy: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for item in compared:
        if item.own_noise is None or item.entry.secondary is None:
            continue
        noisy.update(item.own_noise)
        seen.update(item.primary.fields | item.entry.secondary.fields)
    found = [
        Noise(field=field, noisy=count, seen=seen[field])
        for field, count in noisy.items()
        if field != STATUS and kept(field)
    ]
    return tuple(
        sorted(
            (item for item in found if item.share >= settings.noise_min_share),
            key=lambda item: (-item.noisy, item.field),
        )
    )


def _example(entry: Entry, difference: Difference) -> Example:
    return Example(
        request_id=entry.request_id,
        method=entry.method,
        uri=entry.uri,
        path=difference.path,
        primary=difference.left,
        shadow=difference.right,
    )


def _verdict(
    compared: int,
    differing: int,
    fields: tuple[FieldCount, ...],
    truncated: int,
    *,
    settings: ShadowGateSettings,
) -> tuple[bool, str]:
    if compared < settings.min_compared and not differing:
        # Too few to judge the route alone, and nothing differs: it does not fail the report,
        # which asks min_compared of all routes together (Report.passed).
        reason = f"only {compared} compared, fewer than {settings.min_compared}: not judged"
        if truncated:
            reason += f" ({truncated} too large to compare: raise proxy.shadow_body_limit)"
        return True, reason
    if compared and differing / compared > settings.max_differing_rate:
        top = f", most in {fields[0].field}" if fields else ""
        return False, (
            f"{differing} of {compared} differ ({differing / compared:.1%}, over "
            f"{settings.max_differing_rate:.1%}{top})"
        )
    return True, ""


@dataclass(frozen=True, slots=True)
class Report:
    """The report of a step: one RouteReport per shadowed route (or per route asked for)."""

    step: str
    routes: tuple[RouteReport, ...]
    settings: ShadowGateSettings
    dropped: int = 0  # copies the proxy refused since it started (too many in flight)

    @property
    def compared(self) -> int:
        return sum(route.compared for route in self.routes)

    @property
    def enough_compared(self) -> bool:
        return self.compared >= self.settings.min_compared

    @property
    def passed(self) -> bool:
        return self.enough_compared and all(route.passed for route in self.routes)

    def verdict(self) -> str:
        """One line: whether the report passes, and what fails."""
        failing = [f"{route.route}: {route.reason}" for route in self.routes if not route.passed]
        if not self.enough_compared:
            failing.insert(
                0,
                f"only {self.compared} answers compared in all, fewer than "
                f"{self.settings.min_compared} (gates.shadow.min_compared)",
            )
        if not failing:
            return f"the shadow report of step {self.step} passes"
        return f"the shadow report of step {self.step} fails: " + "; ".join(failing)


def shadowed(step: Step) -> dict[str, Target]:
    """The routes `step` mirrors to a shadow, with their targets."""
    return {name: target for name, target in step.targets.items() if target.shadow}


def step_report(
    plan: Plan,
    step: Step,
    entries: Iterable[Entry],
    *,
    routes: Sequence[str] | None = None,
    dropped: int = 0,
) -> Report:
    """The report of `step` over the shadow log's entries; `routes` (default: every route
    the step shadows) must be shadowed by the step."""
    targets = shadowed(step)
    if not targets:
        raise ShadowError(f"step {step.id} shadows no route: there is nothing to compare")
    names = list(dict.fromkeys(routes)) if routes else list(targets)
    unknown = [name for name in names if name not in targets]
    if unknown:
        raise ShadowError(
            f"step {step.id} does not shadow {', '.join(unknown)} (it shadows {', '.join(targets)})"
        )
    by_route: dict[str, list[Entry]] = {name: [] for name in names}
    for entry in entries:
        target = targets.get(entry.route)
        if entry.route in by_route and target and _mirrored_to(entry, target.shadow):
            by_route[entry.route].append(entry)
    settings = plan.gates.shadow
    return Report(
        step=step.id,
        routes=tuple(route_report(n, by_route[n], settings=settings) for n in names),
        settings=settings,
        dropped=dropped,
    )


def _mirrored_to(entry: Entry, shadow: str | None) -> bool:
    # An entry left from an earlier step may have gone to another shadow.
    return entry.shadow is None or entry.shadow.backend == shadow
