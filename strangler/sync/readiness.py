"""The flip hook that keeps a step from sending a domain's traffic to an unprepared copy.

A backend other than the origin that a step makes serve, shadow or own a domain's routes must
hold a backfilled copy of that domain first: live sync alone brings only what changed since the
copy started listening, so a copy that was never backfilled may look complete on a fresh shop
and still miss rows on a real one. A copy that only serves or shadows reads (the owner stays)
must also be in parity with the owner, or its answers would differ from the owner's. A move of
ownership checks parity itself (strangler.sync.flip.OwnershipHandover).
"""

from __future__ import annotations

from collections.abc import Iterator

from .client import BackendSync, SyncError
from .flip import check_parity


def _uses(plan, step) -> Iterator[tuple[str, str]]:
    """(domain, backend) for every backend other than the origin the step sends the domain's
    requests (served, split, mirrored) or writes to."""
    if step is None:
        return
    routes = {route.name: route for route in plan.routes}
    for name, target in step.targets.items():
        for backend in (*target.backends, *([target.shadow] if target.shadow else [])):
            if backend != plan.origin:
                yield routes[name].domain, backend
    for domain, owner in step.owners.items():
        if owner != plan.origin:
            yield domain, owner


class CopiesReady:
    """Refuses a step that sends a domain's requests to a copy that was never backfilled, or
    (for reads) that differs from the owner."""

    def __init__(self, log=None) -> None:
        self.log = log or (lambda message: print(f"  {message}", flush=True))

    def before_flip(self, *, plan, current, target) -> None:
        already = set(_uses(plan, current))
        for domain, name in dict.fromkeys(_uses(plan, target)):
            owner = current.owners.get(domain, plan.origin) if current else plan.origin
            if (domain, name) in already or name == owner:
                continue
            copy = BackendSync(name, plan.backends[name].url)
            if copy.ownership(domain).backfilled_at is None:
                raise SyncError(
                    f"{target.id} sends {domain} requests to {name}, whose copy of {domain} was "
                    f"never backfilled: run `strangle backfill {domain}` and `strangle parity "
                    f"{domain}` first"
                )
            if name == target.owners.get(domain, plan.origin):
                continue  # the ownership handover checks parity on its own
            owner_sync = BackendSync(owner, plan.backends[owner].url)
            dirty = [
                p for p in check_parity(domain=domain, left=owner_sync, right=copy) if not p.clean
            ]
            if dirty:
                raise SyncError(
                    f"{target.id} sends {domain} reads to {name}, whose copy differs from "
                    f"{owner}'s ({', '.join(p.aggregate for p in dirty)}): `strangle parity "
                    f"{domain} --repair`"
                )
            self.log(f"{domain}: {name}'s copy is backfilled and in parity with {owner}")

    def after_flip(self, *, plan, current, target) -> None:
        pass

    def flip_abandoned(self, *, plan, current, target) -> None:
        pass
