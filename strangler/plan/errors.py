"""Errors raised while loading a migration plan.

Every problem names the file, the step (when it is about one) and the key, so that a broken
plan can be fixed without reading the loader's code.
"""

from __future__ import annotations

from dataclasses import dataclass

from strangler.errors import StranglerError


@dataclass(frozen=True, slots=True)
class PlanIssue:
    file: str
    message: str
    step: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.step is not None:
            parts.append(f"step {self.step!r}")
        if self.key:
            parts.append(self.key)
        return ": ".join(parts) + f": {self.message}"


class PlanError(StranglerError):
    """The plan cannot be used; `issues` lists every problem found, in file order."""

    def __init__(self, issues: list[PlanIssue]) -> None:
        if not issues:
            raise ValueError("PlanError needs at least one issue")
        self.issues = tuple(issues)
        super().__init__(self.one_line())

    def one_line(self) -> str:
        first = str(self.issues[0])
        more = len(self.issues) - 1
        return first if not more else f"{first} (and {more} more problem{'s' * (more > 1)})"

    def __str__(self) -> str:
        return self.one_line()
