"""The data side of a flip: when a step moves a domain's writes to another backend.

Before the routes change: the new owner must have a clean copy (parity) and the old owner's
outbox must be drained. After the routes change, the ownership moves in this order, so that
no write is refused, none is lost and no id or email can be taken twice:

1. the new owner marks the domain `handover`: writes reaching it wait;
2. the old owner marks it `handover` (waiting for its writes under way): writes reaching it wait;
3. the old owner's outbox drains and the new owner applies the domain's last event;
4. the new owner moves its id sequences past every id the old owner used (plus a gap), then
   takes ownership: waiting writes run there;
5. the old owner records the new owner: its waiting writes are forwarded there.

If anything fails before step 5, both backends go back to the old owner and the flip is refused
(the proxy then restores the previous step).
"""

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from .client import BackendSync, SyncError
from .parity import AggregateParity, compare, recheck

ACTIVE, HANDOVER = "active", "handover"


@dataclass(frozen=True)
class DomainMove:
    domain: str
    old: BackendSync
    new: BackendSync


def synced_aggregates(backend: BackendSync, domain: str) -> list[str]:
    return [
        name for name, info in backend.status()["aggregates"].items() if info["domain"] == domain
    ]


def check_parity(
    *, domain: str, left: BackendSync, right: BackendSync, attempts: int = 5, pause: float = 0.5
) -> list[AggregateParity]:
    """Parity of every aggregate of the domain. Under live writes a copy trails its owner by
    the sync lag, so an id counts as different only if it still differs after `attempts`
    rechecks `pause` seconds apart."""
    aggregates = synced_aggregates(left, domain)
    if not aggregates:
        raise SyncError(f"{left.name} syncs no aggregate of domain {domain!r}")
    results = [compare(aggregate=a, left=left, right=right) for a in aggregates]
    for _ in range(attempts):
        if all(r.clean for r in results):
            break
        time.sleep(pause)
        results = [recheck(r, left=left, right=right) for r in results]
    return results


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SyncError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def wait_drained(backend: BackendSync, *, timeout: float) -> None:
    wait_until(
        lambda: backend.status()["outbox"]["pending"] == 0,
        timeout=timeout,
        what=f"the outbox of {backend.name} to drain",
    )


def hand_over(move: DomainMove, *, timeout: float, id_gap: int, log=lambda message: None) -> None:
    domain, old, new = move.domain, move.old, move.new
    try:
        new.set_ownership(domain, owner=old.name, state=HANDOVER)
        old.set_ownership(domain, owner=old.name, state=HANDOVER)
        log(f"{domain}: handover started, writes wait")
        wait_drained(old, timeout=timeout)
        last_event = old.status()["outbox"]["last_event_by_domain"].get(domain)
        if last_event:
            wait_until(
                lambda: new.event_outcome(last_event) is not None,
                timeout=timeout,
                what=f"{new.name} to apply {old.name}'s last {domain} event",
            )
        log(f"{domain}: {old.name}'s changes are all applied on {new.name}")
        floors = {
            name: info["max_id"]
            for name, info in old.status()["aggregates"].items()
            if info["domain"] == domain
        }
        new.move_sequences(domain, floor=floors, gap=id_gap)
        new.set_ownership(domain, owner=new.name, state=ACTIVE)
    except SyncError:
        # Put both back to the old owner; a failure here is reported by the original error.
        for backend in (old, new):
            with contextlib.suppress(SyncError):
                backend.set_ownership(domain, owner=old.name, state=ACTIVE)
        raise
    old.set_ownership(domain, owner=new.name, state=ACTIVE)
    log(f"{domain}: {new.name} owns the writes")


def _some(ids: set[int], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:limit])
    return shown + (", ..." if len(ids) > limit else "")


class OwnershipHandover:
    """The flip hook (strangler.proxy.control.FlipHook) that moves write ownership."""

    def __init__(self) -> None:
        self.timeout = float(getattr(settings, "STRANGLER_HANDOVER_TIMEOUT_SECONDS", 8.0))
        self.id_gap = int(getattr(settings, "STRANGLER_ID_GAP", 1000))

    @staticmethod
    def moves(plan, current, target) -> list[DomainMove]:
        """The domains whose write owner differs between the steps; with no step recorded yet,
        the origin owns everything."""
        moves = []
        for domain, owner in target.owners.items():
            before = current.owners.get(domain, plan.origin) if current else plan.origin
            if before != owner:
                moves.append(
                    DomainMove(
                        domain=domain,
                        old=BackendSync(before, plan.backends[before].url),
                        new=BackendSync(owner, plan.backends[owner].url),
                    )
                )
        return moves

    def before_flip(self, *, plan, current, target) -> None:
        for move in self.moves(plan, current, target):
            wait_drained(move.old, timeout=self.timeout)
            parity = check_parity(
                domain=move.domain, left=move.old, right=move.new, attempts=10, pause=0.5
            )
            dirty = [p for p in parity if not p.clean]
            if dirty:
                raise SyncError(
                    f"parity of {move.domain} between {move.old.name} and {move.new.name} is not "
                    "clean: "
                    + "; ".join(
                        f"{p.aggregate}: {p.left_count} vs {p.right_count} rows, "
                        f"{len(p.suspects)} ids differ ({_some(p.suspects)})"
                        for p in dirty
                    )
                    + f" (run `strangle backfill {move.domain}`)"
                )

    def after_flip(self, *, plan, current, target) -> None:
        for move in self.moves(plan, current, target):
            hand_over(move, timeout=self.timeout, id_gap=self.id_gap)
