"""What changes between two steps of a plan: write owners, and where each route goes."""

from __future__ import annotations

from dataclasses import dataclass

from strangler.plan.model import Plan, Step


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # "owner" | "route"
    name: str  # the domain or the route
    before: str
    after: str

    def __str__(self) -> str:
        label = f"owner of {self.name}" if self.kind == "owner" else f"route {self.name}"
        return f"{label}: {self.before} -> {self.after}"


def diff_steps(plan: Plan, before: Step, after: Step) -> list[Change]:
    changes = [
        Change("owner", domain, before.owners[domain], after.owners[domain])
        for domain in plan.domains
        if before.owners[domain] != after.owners[domain]
    ]
    for route in plan.routes:
        old, new = before.targets[route.name], after.targets[route.name]
        if old != new:
            changes.append(Change("route", route.name, old.describe(), new.describe()))
    return changes


def newly_needed(before: Step, after: Step) -> tuple[str, ...]:
    """Backends the target step sends traffic to that the current one does not."""
    current = set(before.needed_backends())
    return tuple(name for name in after.needed_backends() if name not in current)
