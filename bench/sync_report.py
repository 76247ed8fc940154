"""The data-sync benchmark's results: backfill, parity and sync-lag figures, rendered as
Markdown tables (bench/results/sync.md) and JSON (sync.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.open_loop import LoadResult
from bench.sync_lag import Distribution, LagReport

MAX_ERROR_RATIO = 0.01


@dataclass
class BackfillFigures:
    users_inserted: int = 0
    insert_s: float = 0.0
    batch: int = 0
    copied: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    users_s: float = 0.0  # until the last user batch was stored
    read_s: float = 0.0  # GET .../rows on the monolith, all batches
    write_s: float = 0.0  # POST .../rows on the auth service, all batches
    sequences: dict[str, int] = field(default_factory=dict)

    @property
    def users_per_s(self) -> float:
        return self.copied.get("user", 0) / self.users_s if self.users_s else 0.0

    @property
    def rows_per_s(self) -> float:
        return sum(self.copied.values()) / self.wall_s if self.wall_s else 0.0


@dataclass
class ParityFigures:
    when: str
    clean: bool
    seconds: float
    counts: dict[str, list[int]]  # aggregate -> [monolith rows, auth rows]
    suspects: dict[str, list[int]]


@dataclass
class LagPhase:
    rate: float
    duration_s: float
    load_average: float  # 1-minute load average when the phase started
    load: LoadResult
    lag: LagReport
    drain_s: float  # from the end of the load until the last event was applied

    def to_dict(self) -> dict[str, Any]:
        load = self.load
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "load_average_1min_at_start": self.load_average,
            "load": {
                "offered": load.offered,
                "succeeded": load.succeeded,
                "errors": load.errors,
                "wall_s": round(load.wall_s, 2),
                "achieved_rate": round(load.achieved_rate, 2),
                "latency": asdict(load.latency) if load.latency else None,
                "error_samples": load.error_samples,
            },
            "lag": asdict(self.lag),
            "drain_after_load_s": round(self.drain_s, 2),
        }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


@dataclass
class SyncReport:
    settings: dict[str, Any]
    backfill: BackfillFigures | None = None
    parity: list[ParityFigures] = field(default_factory=list)
    lag_phases: list[LagPhase] = field(default_factory=list)

    def failures(self) -> list[str]:
        problems = [
            f"parity {p.when} is not clean: {p.suspects}" for p in self.parity if not p.clean
        ]
        for phase in self.lag_phases:
            if phase.lag.missing:
                problems.append(
                    f"at {phase.rate:g}/s, {phase.lag.missing} events were not applied on auth"
                )
            if phase.load.errors > MAX_ERROR_RATIO * phase.load.offered:
                problems.append(
                    f"at {phase.rate:g}/s, {phase.load.errors} registrations failed: "
                    f"{phase.load.error_samples}"
                )
        return problems

    def to_markdown(self) -> str:
        lines = ["# Data-sync benchmark: monolith -> auth service", ""]
        lines += [f"- {key}: {value}" for key, value in self.settings.items()]
        if self.backfill is not None:
            lines += ["", *self._backfill_table()]
        if self.lag_phases:
            lines += ["", *self._lag_table()]
        problems = self.failures()
        if problems:
            lines += ["", "## Problems", "", *[f"- {p}" for p in problems]]
        return "\n".join(lines) + "\n"

    def _backfill_table(self) -> list[str]:
        b = self.backfill
        users = b.copied.get("user", 0)
        tokens = b.copied.get("refresh_token", 0)
        tokens_s = b.wall_s - b.users_s
        tokens_rate = f"{tokens / tokens_s:.0f}" if tokens and tokens_s > 0 else "-"
        tokens_note = "none exist: no one logged in before the sync started" if not tokens else ""
        insert_rate = b.users_inserted / b.insert_s if b.insert_s else 0.0
        lines = [
            "## Backfill",
            "",
            "| step | rows | seconds | rows/s | notes |",
            "| --- | ---: | ---: | ---: | --- |",
            f"| insert users into the monolith (setup) | {b.users_inserted} | {b.insert_s:.1f} "
            f"| {insert_rate:.0f} | one INSERT ... SELECT through `manage.py shell -c` |",
            f"| backfill `user` | {users} | {b.users_s:.1f} | {b.users_per_s:.0f} "
            f"| batch {b.batch} rows per call |",
            f"| backfill `refresh_token` | {tokens} | {tokens_s:.1f} | {tokens_rate} "
            f"| {tokens_note} |",
            f"| backfill total (with sequence move) | {users + tokens} | {b.wall_s:.1f} "
            f"| {b.rows_per_s:.0f} | reading pages from the monolith {b.read_s:.1f} s, "
            f"storing them in auth {b.write_s:.1f} s; sequences moved to {b.sequences} |",
        ]
        for p in self.parity:
            counts = ", ".join(f"{a} {m}/{s}" for a, (m, s) in p.counts.items())
            verdict = "clean" if p.clean else "DIFFERS"
            total = sum(m for m, _ in p.counts.values())
            lines.append(
                f"| parity {p.when} | {total} | {p.seconds:.1f} | {total / p.seconds:.0f} "
                f"| {verdict} (monolith/auth rows: {counts}) |"
            )
        return lines

    def _lag_table(self) -> list[str]:
        lines = [
            "## Sync lag under a steady write load",
            "",
            "Lag: the outbox row's created_at (monolith) to the inbox row's applied_at (auth), "
            "joined on event_id; relayed: created_at to the relay's sent_at. Request: latency "
            "of the registration from its scheduled time (open loop).",
            "",
            "| offered /s | ok / failed | achieved /s | applied /s | lag p50 ms | lag p90 ms "
            "| lag p99 ms | lag max ms | relayed p50 ms | relayed p99 ms | request p50 ms "
            "| request p99 ms | drained after s | load avg |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: |",
        ]
        for phase in self.lag_phases:
            load, lag = phase.load, phase.lag
            e2e: Distribution | None = lag.end_to_end
            sent: Distribution | None = lag.until_sent
            request: Distribution | None = load.latency
            lines.append(
                f"| {phase.rate:g} | {load.succeeded} / {load.errors} "
                f"| {load.achieved_rate:.1f} | {lag.applied_per_s:.1f} "
                f"| {_ms(e2e and e2e.p50_ms)} | {_ms(e2e and e2e.p90_ms)} "
                f"| {_ms(e2e and e2e.p99_ms)} | {_ms(e2e and e2e.max_ms)} "
                f"| {_ms(sent and sent.p50_ms)} | {_ms(sent and sent.p99_ms)} "
                f"| {_ms(request and request.p50_ms)} | {_ms(request and request.p99_ms)} "
                f"| {phase.drain_s:.1f} | {phase.load_average:.2f} |"
            )
        lines += ["", "Lag p50 (max) per 5 s window of each load, in ms:", ""]
        for phase in self.lag_phases:
            windows = ", ".join(f"{w.p50_ms:.0f} ({w.max_ms:.0f})" for w in phase.lag.windows)
            lines.append(f"- {phase.rate:g}/s: {windows}")
        return lines

    def to_json(self) -> str:
        payload: dict[str, Any] = {"settings": self.settings}
        if self.backfill is not None:
            payload["backfill"] = {
                **asdict(self.backfill),
                "users_per_s": round(self.backfill.users_per_s, 1),
                "rows_per_s": round(self.backfill.rows_per_s, 1),
            }
        payload["parity"] = [asdict(p) for p in self.parity]
        payload["lag"] = [phase.to_dict() for phase in self.lag_phases]
        payload["problems"] = self.failures()
        return json.dumps(payload, indent=2, default=str) + "\n"

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, machine = directory / "sync.md", directory / "sync.json"
        markdown.write_text(self.to_markdown())
        machine.write_text(self.to_json())
        return markdown, machine
