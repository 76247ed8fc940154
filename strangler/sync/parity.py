"""Parity: do two backends hold the same rows? Each computes over its own copy; only counts,
range checksums and (for differing ranges) per-row hashes cross the wire."""

from dataclasses import dataclass, field

from .client import BackendSync


@dataclass
class AggregateParity:
    aggregate: str
    left_count: int
    right_count: int
    only_left: list[int] = field(default_factory=list)
    only_right: list[int] = field(default_factory=list)
    different: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return (
            self.left_count == self.right_count
            and not self.only_left
            and not self.only_right
            and not self.different
        )


def compare(
    *, aggregate: str, left: BackendSync, right: BackendSync, chunk: int = 1000
) -> AggregateParity:
    left_sums = left.checksums(aggregate, chunk=chunk)
    right_sums = right.checksums(aggregate, chunk=chunk)
    result = AggregateParity(
        aggregate=aggregate, left_count=left_sums["count"], right_count=right_sums["count"]
    )
    left_chunks = {c["start"]: c for c in left_sums["chunks"]}
    right_chunks = {c["start"]: c for c in right_sums["chunks"]}
    for start in sorted(left_chunks.keys() | right_chunks.keys()):
        a, b = left_chunks.get(start), right_chunks.get(start)
        if a and b and a["count"] == b["count"] and a["checksum"] == b["checksum"]:
            continue
        left_rows = left.hashes(aggregate, start=start, end=start + chunk)
        right_rows = right.hashes(aggregate, start=start, end=start + chunk)
        result.only_left += sorted(int(i) for i in left_rows.keys() - right_rows.keys())
        result.only_right += sorted(int(i) for i in right_rows.keys() - left_rows.keys())
        result.different += sorted(
            int(i) for i in left_rows.keys() & right_rows.keys() if left_rows[i] != right_rows[i]
        )
    return result
