"""The catalog read path benchmark's results: requests per second of catalog reads served by the
monolith (step 0-monolith) and by the catalog service (step 4-catalog) through the proxy, side
by side, how long a write takes to show in reads, and whether both steps answer alike; rendered
as Markdown (bench/results/catalog.md) and JSON (catalog.json)."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.report import ScenarioResult

TARGET_RATIO = 3.0
VISIBLE_WITHIN_MS = 1000.0
MAX_ERROR_RATIO = 0.01


def _median(runs: list[ScenarioResult], name: str) -> float:
    return statistics.median(getattr(run, name) for run in runs) if runs else 0.0


@dataclass
class Throughput:
    """One read scenario, measured on both sides in every round."""

    scenario: str
    monolith: list[ScenarioResult] = field(default_factory=list)
    catalog: list[ScenarioResult] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Each round's catalog/monolith requests per second: the two runs of a round ran
        back to back, under about the same load from the rest of the machine."""
        return [
            catalog.requests_per_s / monolith.requests_per_s if monolith.requests_per_s else 0.0
            for monolith, catalog in zip(self.monolith, self.catalog, strict=True)
        ]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else 0.0

    @property
    def error_ratio(self) -> float:
        runs = self.monolith + self.catalog
        requests = sum(run.requests for run in runs)
        return sum(run.errors for run in runs) / requests if requests else 1.0

    def row(self) -> str:
        def side(runs: list[ScenarioResult]) -> tuple[str, str]:
            latency = f"{_median(runs, 'p50_ms'):.1f} / {_median(runs, 'p99_ms'):.1f}"
            return f"{_median(runs, 'requests_per_s'):.0f}", latency

        (monolith_rps, monolith_ms), (catalog_rps, catalog_ms) = (
            side(self.monolith),
            side(self.catalog),
        )
        errors = sum(run.errors for run in self.monolith + self.catalog)
        rounds = " / ".join(f"{ratio:.1f}" for ratio in self.ratios)
        return (
            f"| {self.scenario} | {monolith_rps} | {catalog_rps} | **{self.ratio:.1f}x** "
            f"| {rounds} | {monolith_ms} | {catalog_ms} | {errors} |"
        )


@dataclass
class Visibility:
    """Writes and how long after each write's answer a read showed it (None: not within the
    poll's time limit)."""

    write: str
    read: str
    visible_ms: list[float | None]

    @property
    def seen(self) -> list[float]:
        return sorted(ms for ms in self.visible_ms if ms is not None)

    @property
    def unseen(self) -> int:
        return sum(ms is None for ms in self.visible_ms)

    def quantile(self, q: float) -> float:
        """Nearest rank: the smallest figure that at least a share q of the figures reach."""
        seen = self.seen
        return seen[max(0, math.ceil(q * len(seen)) - 1)] if seen else 0.0

    def row(self) -> str:
        return (
            f"| {self.write} | {self.read} | {len(self.visible_ms)} "
            f"| {self.quantile(0.5):.0f} / {self.quantile(0.99):.0f} / "
            f"{max(self.seen, default=0.0):.0f} | {self.unseen} |"
        )


@dataclass(frozen=True)
class SameAnswer:
    request: str
    same: bool
    difference: str = ""


@dataclass
class CatalogReport:
    settings: dict[str, Any]
    throughput: list[Throughput]
    visibility: list[Visibility]
    answers: list[SameAnswer]

    def problems(self) -> list[str]:
        found = []
        for scenario in self.throughput:
            if scenario.error_ratio > MAX_ERROR_RATIO:
                found.append(f"{scenario.scenario}: {scenario.error_ratio:.1%} of requests failed")
            if scenario.ratio < TARGET_RATIO:
                found.append(
                    f"{scenario.scenario}: {scenario.ratio:.1f}x the monolith's requests per "
                    f"second, under the {TARGET_RATIO:.0f}x aimed at"
                )
        for phase in self.visibility:
            if phase.unseen or max(phase.seen, default=0.0) > VISIBLE_WITHIN_MS:
                found.append(
                    f"{phase.write} read from {phase.read}: not every write was visible within "
                    f"{VISIBLE_WITHIN_MS:.0f} ms"
                )
        found += [
            f"{answer.request}: the steps answer differently ({answer.difference})"
            for answer in self.answers
            if not answer.same
        ]
        return found

    def to_markdown(self) -> str:
        lines = [
            "# Catalog reads: the monolith against the catalog service, through the proxy",
            "",
            *(f"- {key}: {value}" for key, value in self.settings.items()),
            "",
            "## Requests per second",
            "",
            "The same requests through the proxy at step 0-monolith (the monolith serves the "
            "catalog) and at step 4-catalog (the catalog service does), back to back in every "
            "round, which of the two runs first alternating; requests per second and latencies "
            "are medians over the rounds, the ratio the median of the rounds' ratios.",
            "",
            "| scenario | monolith req/s | catalog req/s | ratio | each round's ratio "
            "| monolith p50 / p99 ms | catalog p50 / p99 ms | errors |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *(scenario.row() for scenario in self.throughput),
            "",
            "## From a write to reads that show it",
            "",
            "Each write is a staff PATCH of a product's stock through the proxy; reads of the "
            "product and of the list page holding it are polled until both show it (kept "
            "answers of both were read just before the write).",
            "",
            "| write on | read from | writes | visible after p50 / p99 / max ms "
            "(from the write's answer) | not visible within 5 s |",
            "| --- | --- | ---: | ---: | ---: |",
            *(phase.row() for phase in self.visibility),
            "",
            "## The same answers at both steps",
            "",
            "Status, body and headers through the proxy at 0-monolith and at 4-catalog, but for "
            "what differs between any two answers (Date, X-Request-ID) and the ETag the catalog "
            "service adds.",
            "",
            "| request | same |",
            "| --- | --- |",
            *(
                f"| `{answer.request}` | {'yes' if answer.same else 'NO: ' + answer.difference} |"
                for answer in self.answers
            ),
        ]
        problems = self.problems()
        if problems:
            lines += ["", "## Problems", "", *(f"- {problem}" for problem in problems)]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        payload = {
            "settings": self.settings,
            "summary": {
                scenario.scenario: {
                    "monolith_rps": _median(scenario.monolith, "requests_per_s"),
                    "catalog_rps": _median(scenario.catalog, "requests_per_s"),
                    "ratio": round(scenario.ratio, 2),
                    "ratios": [round(ratio, 2) for ratio in scenario.ratios],
                }
                for scenario in self.throughput
            },
            "throughput": [asdict(scenario) for scenario in self.throughput],
            "visibility": [
                {**asdict(phase), "p50_ms": phase.quantile(0.5), "p99_ms": phase.quantile(0.99)}
                for phase in self.visibility
            ],
            "answers": [asdict(answer) for answer in self.answers],
            "problems": self.problems(),
        }
        return json.dumps(payload, indent=2) + "\n"

    def write(self, directory: Path, stem: str = "catalog") -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, machine = directory / f"{stem}.md", directory / f"{stem}.json"
        markdown.write_text(self.to_markdown())
        machine.write_text(self.to_json())
        return markdown, machine
