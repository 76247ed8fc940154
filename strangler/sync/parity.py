"""Parity: do two backends hold the same rows? Each computes over its own copy; only counts,
range checksums and (for differing ranges) per-row hashes cross the wire."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .client import BackendSync
from .payloads import Chunk


def _both(left_call, right_call):
    """Runs a call on each backend at once: each computes over its own copy, in parallel."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        left, right = pool.submit(left_call), pool.submit(right_call)
        return left.result(), right.result()


@dataclass
class AggregateParity:
    aggregate: str
    left_count: int
    right_count: int
    only_left: list[int] = field(default_factory=list)
    only_right: list[int] = field(default_factory=list)
    different: list[int] = field(default_factory=list)

    @property
    def suspects(self) -> set[int]:
        return {*self.only_left, *self.only_right, *self.different}

    @property
    def clean(self) -> bool:
        return not self.suspects


def compare(
    *, aggregate: str, left: BackendSync, right: BackendSync, chunk: int = 1000
) -> AggregateParity:
    left_sums, right_sums = _both(
        lambda: left.checksums(aggregate, chunk=chunk),
        lambda: right.checksums(aggregate, chunk=chunk),
    )
    result = AggregateParity(
        aggregate=aggregate, left_count=left_sums.count, right_count=right_sums.count
    )
    left_chunks = {c.start: c for c in left_sums.chunks}
    right_chunks = {c.start: c for c in right_sums.chunks}
    starts = [
        start
        for start in sorted(left_chunks.keys() | right_chunks.keys())
        if not _same(left_chunks.get(start), right_chunks.get(start))
    ]
    _diff_ranges(result, left=left, right=right, starts=starts, chunk=chunk)
    return result


def recheck(
    previous: AggregateParity, *, left: BackendSync, right: BackendSync, chunk: int = 1000
) -> AggregateParity:
    """Compares again only the ids that differed: an id still differing is a real difference;
    one that caught up was a change in flight (the copy trails its owner by the sync lag)."""
    suspects = previous.suspects
    result = AggregateParity(
        aggregate=previous.aggregate,
        left_count=previous.left_count,
        right_count=previous.right_count,
    )
    _diff_ranges(
        result,
        left=left,
        right=right,
        starts=sorted({pk // chunk * chunk for pk in suspects}),
        chunk=chunk,
    )
    result.only_left = [pk for pk in result.only_left if pk in suspects]
    result.only_right = [pk for pk in result.only_right if pk in suspects]
    result.different = [pk for pk in result.different if pk in suspects]
    return result


def _same(a: Chunk | None, b: Chunk | None) -> bool:
    return a is not None and b is not None and (a.count, a.checksum) == (b.count, b.checksum)


def _diff_ranges(
    result: AggregateParity, *, left: BackendSync, right: BackendSync, starts, chunk: int
) -> None:
    for start in starts:
        left_rows, right_rows = _both(
            lambda s=start: left.hashes(result.aggregate, start=s, end=s + chunk),
            lambda s=start: right.hashes(result.aggregate, start=s, end=s + chunk),
        )
        result.only_left += sorted(int(i) for i in left_rows.keys() - right_rows.keys())
        result.only_right += sorted(int(i) for i in right_rows.keys() - left_rows.keys())
        result.different += sorted(
            int(i) for i in left_rows.keys() & right_rows.keys() if left_rows[i] != right_rows[i]
        )


@dataclass(frozen=True)
class Repair:
    aggregate: str
    rewritten: list[int]
    deleted: list[int]


def repair(
    result: AggregateParity, *, owner: BackendSync, copy: BackendSync, batch: int = 1000
) -> Repair:
    """Rewrites the copy's differing rows from the owner (`result` compared owner as left,
    copy as right): rows missing or different on the copy are copied with the owner's version,
    rows only the copy has are deleted."""
    rewrite = sorted({*result.only_left, *result.different})
    rewritten: list[int] = []
    for start in range(0, len(rewrite), batch):
        rows = owner.rows_by_id(result.aggregate, rewrite[start : start + batch])
        copy.repair(result.aggregate, rows=rows, delete=[])
        rewritten += [row["id"] for row in rows]
    # An id the owner no longer holds (deleted meanwhile) is deleted on the copy too.
    gone = sorted(set(result.only_right) | (set(rewrite) - set(rewritten)))
    for start in range(0, len(gone), batch):
        copy.repair(result.aggregate, rows=[], delete=gone[start : start + batch])
    return Repair(aggregate=result.aggregate, rewritten=rewritten, deleted=gone)
