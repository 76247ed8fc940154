"""The backfill and parity gates: a step sends a domain's traffic only to a prepared copy.

A backend other than the origin that the target step newly makes serve, shadow or own a
domain's routes must hold a backfilled copy of that domain (live sync alone brings only what
changed since the copy started listening: a copy never backfilled may look complete on a fresh
shop and still miss rows on a real one), in parity with the domain's current owner.

The origin's data is the source of every copy and is never backfilled: a move of writes back to
it (a rollback) is judged by the ownership handover itself, which checks parity after recording
the old owner's outbox position, or goes ahead without a lost owner (`rollback --force`).
"""

from __future__ import annotations

from collections.abc import Iterator

from strangler.sync.client import BackendSync
from strangler.sync.flip import check_parity

from .move import Check, Move


def uses(plan, step) -> Iterator[tuple[str, str]]:
    """(domain, backend) for every backend other than the origin the step sends the domain's
    requests (served, split, mirrored) or writes to."""
    routes = {route.name: route for route in plan.routes}
    for name, target in step.targets.items():
        for backend in (*target.backends, *([target.shadow] if target.shadow else [])):
            if backend != plan.origin:
                yield routes[name].domain, backend
    for domain, owner in step.owners.items():
        if owner != plan.origin:
            yield domain, owner


def new_copies(move: Move) -> list[tuple[str, str, str]]:
    """(domain, copy, current owner) for each copy the target step newly relies on."""
    plan, current = move.plan, move.current
    already = set(uses(plan, current))
    found = []
    for domain, name in dict.fromkeys(uses(plan, move.target)):
        owner = current.owners.get(domain, plan.origin)
        if (domain, name) not in already and name != owner:
            found.append((domain, name, owner))
    return found


def _backfilled(move: Move, domain: str, name: str) -> bool:
    copy = BackendSync(name, move.plan.backends[name].url)
    return copy.ownership(domain).backfilled_at is not None


def backfill(move: Move) -> Iterator[Check]:
    for domain, name, _owner in new_copies(move):
        if _backfilled(move, domain, name):
            yield Check("backfill", True, f"{name}'s copy of {domain} was backfilled")
        else:
            yield Check(
                "backfill",
                False,
                f"{move.target.id} sends {domain} requests to {name}, whose copy of {domain} was "
                f"never backfilled: run `strangle backfill {domain}` and `strangle parity "
                f"{domain}` first",
            )


def parity(move: Move) -> Iterator[Check]:
    """Parity of each backfilled new copy with the owner (one never backfilled is the backfill
    gate's reason alone)."""
    plan = move.plan
    for domain, name, owner in new_copies(move):
        if not _backfilled(move, domain, name):
            continue
        copy = BackendSync(name, plan.backends[name].url)
        source = BackendSync(owner, plan.backends[owner].url)
        dirty = [p for p in check_parity(domain=domain, left=source, right=copy) if not p.clean]
        if dirty:
            differing = ", ".join(
                f"{p.aggregate} {p.left_count} vs {p.right_count} rows, {len(p.suspects)} ids "
                "differ"
                for p in dirty
            )
            yield Check(
                "parity",
                False,
                f"{name}'s copy of {domain} differs from {owner}'s ({differing}): "
                f"`strangle parity {domain} --repair`",
            )
        else:
            yield Check("parity", True, f"{name}'s copy of {domain} is in parity with {owner}")
