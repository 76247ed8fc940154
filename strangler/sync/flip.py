"""The data side of a flip: when a step moves a domain's writes to another backend.

Like Vitess MoveTables' SwitchTraffic, a flip drains to a watermark, never to an empty outbox
(under steady writes an outbox is never empty):

before the routes change (`fence`)
  - an interrupted handover (the CLI killed, a backend restarted) is resolved first;
  - the old owner's outbox position is recorded, then the new owner's copy must be in parity;
  1. the new owner marks the domain `handover`: writes reaching it wait;
  2. the old owner fences the domain (waiting for its writes under way to commit; later ones
     wait) and answers the watermark: the last version of every aggregate changed since the
     recorded position;
  3. the new owner must hold every aggregate of the watermark in that version (a stuck earlier
     event stops the flip here instead of forking the copies), within a bounded wait;
the routes change while no write of the domain can happen, and both sides hold the same data:
a client that wrote just before reads its write back from either side, whenever its read
lands; after the routes change (`complete`)
  4. the new owner moves its id sequences past every id the old one used (plus a gap), then
     takes ownership: waiting writes run there;
  5. the old owner records the new owner: its waiting writes are forwarded there, and its own
     consumer follows the new owner's events (the reverse sync, so a rollback is the same
     operation backwards).

If anything fails before step 5, both backends go back to the old owner and the flip is refused
(the proxy then restores the previous step); the waiting writes go through on the old owner.
"""

import contextlib
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from django.conf import settings

from strangler.conf import strangler_settings
from strangler.service.secret_files import replace_private

from .client import BackendSync, SyncError
from .parity import AggregateParity, compare, recheck
from .payloads import Behind, Watermark
from .states import OwnershipState

ACTIVE, HANDOVER = OwnershipState.ACTIVE, OwnershipState.HANDOVER
A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True)
class DomainMove:
    domain: str
    old: BackendSync
    new: BackendSync


def synced_aggregates(backend: BackendSync, domain: str) -> list[str]:
    return list(backend.status().in_domain(domain))


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
            raise SyncError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)


def wait_for_watermark(backend: BackendSync, watermark: Watermark, *, timeout: float) -> None:
    lagging = Behind(behind={}, count=0)

    def caught_up() -> bool:
        nonlocal lagging
        lagging = backend.behind(watermark)
        return lagging.count == 0

    try:
        wait_until(caught_up, timeout=timeout, what=f"{backend.name} to reach the watermark")
    except SyncError as error:
        examples = "; ".join(
            f"{name} {_some(set(map(int, ids)))}" for name, ids in lagging.behind.items()
        )
        raise SyncError(
            f"{error}: {lagging.count} aggregates still behind ({examples}); "
            "is its sync consumer running? `strangle parity DOMAIN --repair` copies stuck rows"
        ) from None


def domain_ownership(backend: BackendSync, domain: str) -> tuple[str, OwnershipState]:
    ownership = backend.ownership(domain)
    return ownership.owner, ownership.state


def resolve_interrupted(move: DomainMove, log=lambda message: None) -> bool:
    """Completes or undoes a handover a crash left half done; True when the new owner had
    already taken the domain over (the move is then finished, not repeated)."""
    domain, old, new = move.domain, move.old, move.new
    new_view, old_view = domain_ownership(new, domain), domain_ownership(old, domain)
    if new_view == (new.name, ACTIVE) and old_view in ((new.name, ACTIVE), (old.name, HANDOVER)):
        if old_view != (new.name, ACTIVE):
            old.set_ownership(domain, owner=new.name, state=ACTIVE)
            log(f"{domain}: finished an interrupted handover: {new.name} owns the writes")
        return True
    if new_view != (old.name, ACTIVE) or old_view != (old.name, ACTIVE):
        # A handover cut short, or an owner that was left behind by a forced rollback and
        # came back: the recorded step's owner keeps the writes.
        for backend in (old, new):
            backend.set_ownership(domain, owner=old.name, state=ACTIVE)
        log(f"{domain}: settled an interrupted or forced handover: {old.name} owns the writes")
    return False


@dataclass(frozen=True)
class FencedMove:
    """A move between steps 3 and 4: the domain's writes wait on both backends."""

    move: DomainMove
    max_ids: dict[str, int]
    fenced_at: float  # time.monotonic() when the writes started waiting


def _both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """Two calls to two backends at once; the first error raised is raised."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        one, two = pool.submit(first), pool.submit(second)
        return one.result(), two.result()


def release(move: DomainMove) -> None:
    """Both backends back to the old owner, as before the move; a failure here is reported
    by the error that made the move fail."""
    for backend in (move.old, move.new):
        with contextlib.suppress(SyncError):
            backend.set_ownership(move.domain, owner=move.old.name, state=ACTIVE)


def fence(
    move: DomainMove, *, after_id: int, timeout: float, log=lambda message: None
) -> FencedMove:
    """Steps 1 to 3: the domain's writes wait, and the new owner holds what the old one wrote."""
    domain, old, new = move.domain, move.old, move.new
    fenced_at = time.monotonic()
    try:
        # Each side waits for its own writes under way: ask both at once.
        fenced, _ = _both(
            lambda: old.fence(domain, owner=old.name, after=after_id),
            lambda: new.set_ownership(domain, owner=old.name, state=HANDOVER),
        )
        log(
            f"{domain}: writes fenced; watermark of "
            f"{sum(len(v) for v in fenced.watermark.values())} aggregates"
        )
        wait_for_watermark(new, fenced.watermark, timeout=timeout)
    except SyncError:
        release(move)
        raise
    return FencedMove(move=move, max_ids=fenced.max_ids, fenced_at=fenced_at)


def complete(fenced: FencedMove, *, id_gap: int, log=lambda message: None) -> float:
    """Steps 4 and 5: the new owner takes the writes; returns how long they were paused."""
    move = fenced.move
    domain, old, new = move.domain, move.old, move.new
    try:
        new.move_sequences(domain, floor=fenced.max_ids, gap=id_gap)
        # The old owner may forward its waiting writes before the new one takes them: they
        # wait there for the handover's end, as writes reaching it directly do.
        _both(
            lambda: new.set_ownership(domain, owner=new.name, state=ACTIVE),
            lambda: old.set_ownership(domain, owner=new.name, state=ACTIVE),
        )
    except SyncError:
        release(move)
        raise
    pause = time.monotonic() - fenced.fenced_at
    log(f"{domain}: {new.name} owns the writes; writes paused {pause:.3f}s")
    return pause


def hand_over(
    move: DomainMove, *, after_id: int, timeout: float, id_gap: int, log=lambda message: None
) -> float:
    """Moves the domain's writes at once (no routes change in between); returns how long they
    were paused, in seconds."""
    fenced = fence(move, after_id=after_id, timeout=timeout, log=log)
    return complete(fenced, id_gap=id_gap, log=log)


def _some(ids: set[int], limit: int = 10) -> str:
    shown = ", ".join(str(i) for i in sorted(ids)[:limit])
    return shown + (", ..." if len(ids) > limit else "")


class OwnershipHandover:
    """The flip hook (strangler.proxy.control.FlipHook) that moves write ownership."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self.timeout = float(strangler_settings.HANDOVER_TIMEOUT_SECONDS)
        self.id_gap = int(strangler_settings.ID_GAP)
        self.log = log or (lambda message: print(f"  {message}", flush=True))
        self._finished: set[str] = set()
        self._fenced: dict[str, FencedMove] = {}
        # `strangle rollback --force`: a move whose old owner is down goes ahead without it.
        self.forced = False
        self.journal_dir: Path | None = None
        self._abandoned: dict[str, dict] = {}

    def force(self, *, journal_dir: Path) -> None:
        self.forced = True
        self.journal_dir = journal_dir

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
        positions = {}
        for move in self.moves(plan, current, target):
            if not _reachable(move.old):
                if not self.forced:
                    raise SyncError(
                        f"{move.old.name}, the current owner of {move.domain}, is unreachable "
                        f"at {move.old.base_url}; `strangle rollback --force` moves the writes "
                        "without it and names what may be lost"
                    )
                self._abandoned[move.domain] = abandon(move, log=self.log)
                continue
            if resolve_interrupted(move, log=self.log):
                self._finished.add(move.domain)
                continue
            # Everything the old owner wrote up to here is covered by parity; what it writes
            # from here on is covered by the watermark at the fence.
            positions[move.domain] = move.old.status().outbox.last_id
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
                    + f" (run `strangle backfill {move.domain}` or `strangle parity "
                    f"{move.domain} --repair`)"
                )
        for move in self.moves(plan, current, target):
            if move.domain not in positions:
                continue
            try:
                self._fenced[move.domain] = fence(
                    move, after_id=positions[move.domain], timeout=self.timeout, log=self.log
                )
            except SyncError:
                self.flip_abandoned(plan=plan, current=current, target=target)
                raise

    def after_flip(self, *, plan, current, target) -> None:
        moves = self.moves(plan, current, target)
        for move in moves:
            if move.domain in self._finished:
                continue
            if move.domain in self._abandoned:
                self._take_over_from_lost_owner(move, self._abandoned[move.domain])
                continue
            complete(self._fenced.pop(move.domain), id_gap=self.id_gap, log=self.log)
        self._settle_copies(plan, target, moves)

    def _settle_copies(self, plan, target, moves: list[DomainMove]) -> None:
        """Backends that keep a copy of a domain without taking part in its move learn the
        step's owner (a write reaching them is forwarded there); one that was down at an
        earlier flip learns it now. One that is down now is named, and learns it next time."""
        in_move = {(m.domain, name) for m in moves for name in (m.old.name, m.new.name)}
        for domain in sorted({d for b in plan.backends.values() for d in b.owns | b.copies}):
            owner = target.owners.get(domain, plan.origin)
            for name, backend in plan.backends.items():
                keeps_copy = name == plan.origin or domain in backend.owns | backend.copies
                if not keeps_copy or (domain, name) in in_move:
                    continue
                copy = BackendSync(name, backend.url, timeout=5.0)
                try:
                    if domain_ownership(copy, domain) != (owner, ACTIVE):
                        copy.set_ownership(domain, owner=owner, state=ACTIVE)
                except SyncError as error:
                    if name in target.needed_backends():
                        self.log(f"{domain}: {name} could not be told its owner {owner}: {error}")

    def flip_abandoned(self, *, plan, current, target) -> None:
        """The routes did not change: the fenced domains go back to their old owner."""
        while self._fenced:
            _, fenced = self._fenced.popitem()
            release(fenced.move)
            self.log(
                f"{fenced.move.domain}: flip abandoned; {fenced.move.old.name} keeps the writes"
            )

    def _take_over_from_lost_owner(self, move: DomainMove, record: dict) -> None:
        # The lost owner's newest ids are unknown: leave a wide gap above every id seen here.
        floors = {
            name: aggregate.max_id
            for name, aggregate in move.new.status().in_domain(move.domain).items()
        }
        move.new.move_sequences(move.domain, floor=floors, gap=self.id_gap * FORCED_GAP_FACTOR)
        move.new.set_ownership(move.domain, owner=move.new.name, state=ACTIVE)
        record["taken_over_at"] = datetime.now(UTC).isoformat()
        path = _write_journal(self.journal_dir, record)
        self.log(
            f"{move.domain}: {move.new.name} owns the writes without {move.old.name}; "
            f"recorded in {path}"
        )


FORCED_GAP_FACTOR = 100


def _reachable(backend: BackendSync) -> bool:
    try:
        BackendSync(backend.name, backend.base_url, timeout=3.0).status()
    except SyncError:
        return False
    return True


def abandon(move: DomainMove, log=lambda message: None) -> dict:
    """What a forced move without the old owner can lose: every write the old owner accepted
    after the last of its events the new owner applied, and did not publish before it went
    down. Named by that instant; the old owner's unsent outbox rows are those writes."""
    last = move.new.status().last_applied_from.get(move.old.name)
    record = {
        "domain": move.domain,
        "lost_owner": move.old.name,
        "new_owner": move.new.name,
        "forced_at": datetime.now(UTC).isoformat(),
        "last_event_applied_from_lost_owner": last,
        "may_be_lost": (
            f"writes of {move.domain} that {move.old.name} accepted after "
            f"{last or 'the flip'} and had not published: its outbox rows with sent_at empty "
            f"(SELECT * FROM strangler_outboxevent WHERE sent_at IS NULL on {move.old.name})"
        ),
    }
    log(f"{move.domain}: {move.old.name} is unreachable; FORCED: {record['may_be_lost']}")
    return record


def _write_journal(directory: Path | None, record: dict) -> Path:
    directory = directory or Path(getattr(settings, "VAR_DIR", ".")) / "strangler"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"forced-{record['domain']}-{stamp}.json"
    # Private: it says which backend went down and which writes it may have lost, for the
    # operator's eyes only.
    replace_private(path, (json.dumps(record, indent=2) + "\n").encode())
    return path
