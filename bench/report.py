"""Benchmark results: one row per scenario, rendered as a Markdown table and as JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    tool: str
    requests: int
    errors: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    notes: str = ""
    p999_ms: float | None = None  # wrk reports it; other tools leave it out


@dataclass
class BenchReport:
    title: str
    settings: dict[str, Any]
    results: list[ScenarioResult] = field(default_factory=list)

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", ""]
        lines += [f"- {key}: {value}" for key, value in self.settings.items()]
        lines += [
            "",
            "| scenario | load generator | requests | errors | req/s | p50 ms | p99 ms |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in self.results:
            lines.append(
                f"| {row.scenario} | {row.tool} | {row.requests} | {row.errors} "
                f"| {row.requests_per_s:.1f} | {row.p50_ms:.1f} | {row.p99_ms:.1f} |"
            )
        notes = [f"- {row.scenario}: {row.notes}" for row in self.results if row.notes]
        if notes:
            lines += ["", *notes]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        payload = {
            "title": self.title,
            "settings": self.settings,
            "results": [asdict(row) for row in self.results],
        }
        return json.dumps(payload, indent=2) + "\n"

    def write(self, *, directory: Path, stem: str) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown = directory / f"{stem}.md"
        machine = directory / f"{stem}.json"
        markdown.write_text(self.to_markdown())
        machine.write_text(self.to_json())
        return markdown, machine


def load_average() -> str:
    """The machine's 1, 5 and 15 minute load averages, as the reports print them."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def publish(report: Any, output_dir: Path, log: Callable[[str], None]) -> int:
    """Writes a report's .md and .json, prints it, logs its problems; the bench's exit code."""
    markdown, machine = report.write(output_dir)
    print(report.to_markdown())
    log(f"written {markdown} and {machine}")
    problems = report.problems()
    for problem in problems:
        log(f"problem: {problem}")
    return 1 if problems else 0
