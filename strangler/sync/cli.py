"""What `strangle backfill|parity` and the sync lines of `strangle status` do, given a plan."""

from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .backfill import BackfillResult, backfill
from .client import BackendSync, SyncError
from .flip import check_parity, synced_aggregates
from .parity import AggregateParity
from .states import OwnershipState


@dataclass(frozen=True)
class DomainPair:
    domain: str
    owner: BackendSync
    copy: BackendSync


def domain_pair(plan, *, domain: str, step, copy: str | None = None) -> DomainPair:
    """The domain's current write owner, and the backend it moves to (or from) in the plan; or,
    named as `copy`, another backend that keeps a copy of the domain (`owns` or `copies` it):
    a service whose read copy must hold the rows its own data refers to."""
    owner = step.owners.get(domain, plan.origin) if step else plan.origin
    if copy is not None:
        backend = plan.backends.get(copy)
        if backend is None or (copy != plan.origin and domain not in backend.owns | backend.copies):
            raise SyncError(f"{copy!r} keeps no copy of domain {domain!r} in the plan")
        if copy == owner:
            raise SyncError(f"{copy} owns {domain} at this step: it is the source, not a copy")
        other = copy
    else:
        candidates = [
            name
            for name, backend in plan.backends.items()
            if domain in backend.owns and name != owner
        ]
        if not candidates:
            raise SyncError(f"no backend other than {owner} can own domain {domain!r} in the plan")
        if owner != plan.origin:
            candidates = [plan.origin]
        other = candidates[0]
    return DomainPair(
        domain=domain,
        owner=BackendSync(owner, plan.backends[owner].url),
        copy=BackendSync(other, plan.backends[other].url),
    )


def run_backfill(pair: DomainPair, *, checkpoint_dir: Path, batch: int, id_gap: int, out):
    aggregates = synced_aggregates(pair.owner, pair.domain)
    if not aggregates:
        raise SyncError(f"{pair.owner.name} syncs no aggregate of domain {pair.domain!r}")
    bars: dict[str, tqdm] = {}

    def progress(aggregate: str, copied: int, total: int) -> None:
        bar = bars.get(aggregate)
        if bar is None:
            bar = bars[aggregate] = tqdm(total=total, desc=aggregate, unit="row", file=out)
        bar.update(copied - bar.n)

    try:
        result: BackfillResult = backfill(
            domain=pair.domain,
            aggregates=aggregates,
            source=pair.owner,
            target=pair.copy,
            # One per copy: a copy's interrupted backfill resumes where it stopped, whatever
            # another copy of the domain was filled meanwhile.
            checkpoint_file=checkpoint_dir / f"backfill-{pair.domain}-{pair.copy.name}.json",
            batch=batch,
            id_gap=id_gap,
            on_progress=progress,
        )
    finally:
        for bar in bars.values():
            bar.close()
    return result


def run_parity(pair: DomainPair) -> list[AggregateParity]:
    return check_parity(domain=pair.domain, left=pair.owner, right=pair.copy, attempts=3)


def describe_parity(pair: DomainPair, results: list[AggregateParity]) -> list[str]:
    lines = []
    for r in results:
        verdict = "clean" if r.clean else "DIFFERS"
        lines.append(
            f"{r.aggregate}: {pair.owner.name} {r.left_count} rows, "
            f"{pair.copy.name} {r.right_count} rows: {verdict}"
        )
        for label, ids in (
            (f"only in {pair.owner.name}", r.only_left),
            (f"only in {pair.copy.name}", r.only_right),
            ("different", r.different),
        ):
            if ids:
                shown = ", ".join(str(i) for i in ids[:20])
                more = f" (+{len(ids) - 20} more)" if len(ids) > 20 else ""
                lines.append(f"  {label}: {shown}{more}")
    return lines


def sync_lag(plan) -> list[dict]:
    """Per backend: pending outbox rows and the age of the oldest, the compensations not yet
    run, or why they are unknown."""
    rows = []
    for name, backend in plan.backends.items():
        try:
            status = BackendSync(name, backend.url, timeout=3.0).status()
        except SyncError as exc:
            rows.append(
                {
                    "backend": name,
                    "pending": None,
                    "oldest_seconds": None,
                    "compensations": None,
                    "error": str(exc),
                }
            )
            continue
        rows.append(
            {
                "backend": name,
                "pending": status.outbox.pending,
                "oldest_seconds": status.outbox.oldest_pending_age_seconds,
                "compensations": status.compensations.model_dump(),
                "error": None,
            }
        )
    return rows


def ownership_report(plan, step) -> list[dict]:
    """Per synced domain: the owner the step names, what each backend records, and a verdict
    an operator can act on (a handover a crash left half done, backends that disagree)."""
    views: dict[str, dict[str, tuple[str, OwnershipState] | None]] = {}
    for name, backend in plan.backends.items():
        try:
            recorded = BackendSync(name, backend.url, timeout=3.0).status().ownership
        except SyncError:
            recorded = None
        for domain, ownership in (recorded or {}).items():
            views.setdefault(domain, {})[name] = (ownership.owner, ownership.state)
        if recorded is None:
            for domain in views:
                views[domain].setdefault(name, None)
    report = []
    for domain, seen in sorted(views.items()):
        expected = step.owners.get(domain, plan.origin) if step else plan.origin
        known = {name: view for name, view in seen.items() if view is not None}
        if any(state == OwnershipState.HANDOVER for _, state in known.values()):
            verdict = (
                "HANDOVER in progress, or interrupted: `strangle apply` of the target step or "
                "`strangle rollback` completes it"
            )
        elif all(owner == expected for owner, _ in known.values()):
            verdict = "ok"
        else:
            verdict = (
                f"DISAGREES with the step (owner {expected}): the next `strangle apply` or "
                "`rollback` settles it on the step's owner"
            )
        report.append({"domain": domain, "expected": expected, "seen": seen, "verdict": verdict})
    return report
