"""Compare two (normalised) answers and say exactly where they differ.

Used by the contract suite and by shadow traffic: the primary backend's answer is `expected`,
the shadow's is `actual`. List order matters (ordering is part of the contract) and so do types
(`"2"` is not `2`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff

from strangler.contract.normalise import NormalisedResponse, Normaliser

MISSING = "<missing>"


@dataclass(frozen=True)
class Difference:
    path: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected!r}, got {self.actual!r}"


def json_path(parts: list[Any], root: str = "$") -> str:
    path = root
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _present(value: Any) -> Any:
    # deepdiff marks the absent side of an added/removed item with a sentinel object.
    return MISSING if type(value).__name__ == "NotPresent" else value


def diff_bodies(expected: Any, actual: Any, *, root: str = "$") -> list[Difference]:
    tree = DeepDiff(expected, actual, view="tree", ignore_order=False)
    differences = [
        Difference(
            path=json_path(level.path(output_format="list"), root),
            expected=_present(level.t1),
            actual=_present(level.t2),
        )
        for levels in tree.values()
        for level in levels
    ]
    return sorted(differences, key=lambda difference: difference.path)


def diff_normalised(expected: NormalisedResponse, actual: NormalisedResponse) -> list[Difference]:
    differences: list[Difference] = []
    if expected.status != actual.status:
        differences.append(Difference("status", expected.status, actual.status))
    differences += diff_bodies(dict(expected.headers), dict(actual.headers), root="headers")
    differences += diff_bodies(expected.body, actual.body, root="$")
    return differences


def diff_responses(
    expected: Any, actual: Any, *, normaliser: Normaliser | None = None
) -> list[Difference]:
    """Diff two `httpx.Response`s (or already normalised responses) after normalisation."""
    normaliser = normaliser or Normaliser()
    if not isinstance(expected, NormalisedResponse):
        expected = normaliser.httpx_response(expected)
    if not isinstance(actual, NormalisedResponse):
        actual = normaliser.httpx_response(actual)
    return diff_normalised(expected, actual)


def format_differences(differences: list[Difference], *, limit: int = 20) -> str:
    if not differences:
        return "no differences"
    lines = [str(difference) for difference in differences[:limit]]
    if len(differences) > limit:
        lines.append(f"... and {len(differences) - limit} more")
    return "\n".join(lines)
