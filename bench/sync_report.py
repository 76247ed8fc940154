"""The data-sync benchmark's results: backfill, parity, sync throughput and lag, HTTP writes and
handover pauses, rendered as Markdown (bench/results/sync.md) and JSON (sync.json), side by
side with the figures of the previous sync design (BEFORE)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.sync_lag import Distribution, LagReport

MAX_ERROR_RATIO = 0.01
LAG_P99_LIMIT_MS = 1000.0
# A rate counts as carried when the writers kept up with it (the generator may fall behind).
ACHIEVED_RATIO = 0.95

# Targets of the redesigned sync.
TARGETS = {
    "backfill_rows_per_s": 20_000,
    "parity_seconds": 30.0,
    "headline_rate": 200.0,
    "headline_duration_s": 60.0,
}

# The previous design (one unpartitioned consumer, an empty-outbox flip), as measured on
# 2026-11-29 by the earlier version of this benchmark: 2 cores, registrations through HTTP.
BEFORE: dict[str, Any] = {
    "date": "2026-11-29",
    "backfill": {"rows": 100_002, "seconds": 41.3, "rows_per_s": 2420, "batch": 1000},
    "parity": {"rows": 100_002, "seconds": 9.9, "rows_per_s": 10_144},
    # events/s (one registration = one event) -> lag p50, p99 in ms
    "lag": {5.0: (47, 79), 10.0: (60, 1475), 20.0: (10326, 15247)},
    "highest_rate": "≈ 5-10 events/s (p99 79 ms at 5/s, 1.5 s at 10/s)",
    "handover": "waited for an empty outbox: refused under steady writes (no pause figure)",
}


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
    seconds_by_aggregate: dict[str, float] = field(default_factory=dict)
    setup: str = ""  # how the rows got there

    @property
    def rows(self) -> int:
        return sum(left for left, _ in self.counts.values())

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class ThroughputPhase:
    """An open-loop load of the in-process generator (bench.sync_generator) at `rate` events/s."""

    rate: float
    duration_s: float
    kind: str
    load_average: float  # 1-minute load average when the phase started
    generator: dict[str, Any]  # sync_generator RunFigures.summary()
    lag: LagReport
    drain_s: float  # from the end of the load until the last event was applied
    search: bool = False  # a step of the search for the highest sustained rate
    cpu: dict[str, Any] | None = None  # bench.sync_cpu.CpuUsage.to_dict() during the load

    @property
    def achieved(self) -> float:
        return float(self.generator.get("achieved_events_per_s", 0.0))

    @property
    def errors(self) -> int:
        return int(self.generator.get("errors", 0))

    @property
    def sustained(self) -> bool:
        e2e = self.lag.end_to_end
        return (
            e2e is not None
            and e2e.p99_ms < LAG_P99_LIMIT_MS
            and not self.lag.missing
            and self.errors <= MAX_ERROR_RATIO * max(1, int(self.generator.get("operations", 0)))
            and self.achieved >= ACHIEVED_RATIO * self.rate
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "kind": self.kind,
            "search": self.search,
            "sustained": self.sustained,
            "load_average_1min_at_start": self.load_average,
            "generator": self.generator,
            "lag": asdict(self.lag),
            "drain_after_load_s": round(self.drain_s, 2),
            "cpu": self.cpu,
        }


@dataclass
class HttpPhase:
    """A closed-loop load through the monolith's API (bench.write_load.WriteLoad, no pause)."""

    clients: int
    duration_s: float
    load_average: float
    load: dict[str, Any]  # WriteLoad's LoadReport.summary()
    lag: LagReport
    drain_s: float
    cpu: dict[str, Any] | None = None

    @property
    def events_per_s(self) -> float:
        return self.lag.events / self.duration_s if self.duration_s else 0.0

    @property
    def sustained(self) -> bool:
        e2e = self.lag.end_to_end
        return e2e is not None and e2e.p99_ms < LAG_P99_LIMIT_MS and not self.lag.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "duration_s": self.duration_s,
            "load_average_1min_at_start": self.load_average,
            "write_events_per_s": round(self.events_per_s, 1),
            "sustained": self.sustained,
            "load": self.load,
            "lag": asdict(self.lag),
            "drain_after_load_s": round(self.drain_s, 2),
            "cpu": self.cpu,
        }


@dataclass
class Flip:
    old: str
    new: str
    after_id: int
    pause_s: float | None  # None: refused
    error: str = ""
    # hand_over's calls to the backends' sync API, by kind: total ms and how many
    calls_ms: dict[str, float] = field(default_factory=dict)
    call_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class HandoverFigures:
    clients: int
    flips: list[Flip] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)  # WriteLoad summary over all flips
    wall_s: float = 0.0
    lags: dict[str, LagReport] = field(default_factory=dict)  # "monolith -> auth", ...

    @property
    def pauses_ms(self) -> list[float]:
        return sorted(f.pause_s * 1000.0 for f in self.flips if f.pause_s is not None)

    @property
    def events(self) -> int:
        return sum(lag.events for lag in self.lags.values())

    def mean_calls_ms(self) -> dict[str, tuple[float, float]]:
        """Per kind of call: mean ms per flip and mean calls per flip, over the flips made."""
        made = [f for f in self.flips if f.pause_s is not None] or self.flips
        kinds: dict[str, tuple[float, float]] = {}
        for flip in made:
            for kind, ms in flip.calls_ms.items():
                total, count = kinds.get(kind, (0.0, 0.0))
                kinds[kind] = (total + ms, count + flip.call_counts.get(kind, 0))
        flips = max(1, len(made))
        return dict(
            sorted(
                ((k, (t / flips, c / flips)) for k, (t, c) in kinds.items()),
                key=lambda kv: -kv[1][0],
            )
        )

    def to_dict(self) -> dict[str, Any]:
        pauses = self.pauses_ms
        return {
            "clients": self.clients,
            "wall_s": round(self.wall_s, 2),
            "pause_p50_ms": round(statistics.median(pauses), 1) if pauses else None,
            "pause_max_ms": round(max(pauses), 1) if pauses else None,
            "flips": [asdict(f) for f in self.flips],
            "mean_calls_ms_per_flip": {
                kind: {"ms": round(ms, 1), "calls": round(calls, 1)}
                for kind, (ms, calls) in self.mean_calls_ms().items()
            },
            "write_events": self.events,
            "load": self.load,
            "lags": {name: asdict(lag) for name, lag in self.lags.items()},
        }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _s_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _cpu_table(phases: list[tuple[str, dict[str, Any] | None, int]]) -> list[str]:
    """Cores used per component during each load (CPU seconds / wall seconds), and the CPU
    milliseconds per sync event, from bench.sync_cpu."""
    phases = [(label, cpu, events) for label, cpu, events in phases if cpu]
    if not phases:
        return []
    components: dict[str, float] = {}
    for _, cpu, _ in phases:
        for name, seconds in cpu["cpu_s"].items():
            components[name] = max(components.get(name, 0.0), seconds / cpu["wall_s"])
    ordered = [name for name, used in sorted(components.items(), key=lambda kv: -kv[1])]
    lines = [
        "",
        "CPU during each load, from /proc: cores used (CPU ms per sync event). The machine's "
        "other work (anything not listed: other people's tests, short-lived processes) is "
        "'other'.",
        "",
        "| component | " + " | ".join(label for label, _, _ in phases) + " |",
        "| --- | " + " | ".join("---:" for _ in phases) + " |",
    ]

    def cell(seconds: float, cpu: dict[str, Any], events: int) -> str:
        per_event = f" ({seconds * 1000 / events:.2f})" if events else ""
        return f"{seconds / cpu['wall_s']:.2f}{per_event}"

    for name in ordered:
        cells = [cell(cpu["cpu_s"].get(name, 0.0), cpu, events) for _, cpu, events in phases]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append(
        "| other | " + " | ".join(cell(cpu["other_s"], cpu, 0) for _, cpu, _ in phases) + " |"
    )
    if any(cpu.get("new_database_sessions") for _, cpu, _ in phases):
        lines.append(
            "| new PostgreSQL connections (monolith / auth database) | "
            + " | ".join(
                " / ".join(
                    str(cpu.get("new_database_sessions", {}).get(db, "-"))
                    for db in ("monolith", "auth")
                )
                for _, cpu, _ in phases
            )
            + " |"
        )
    for database in ("monolith", "auth"):
        if any(cpu.get("database_active_sessions", {}).get(database) for _, cpu, _ in phases):
            lines.append(
                f"| {database} database: active sessions by wait event (sampled) | "
                + " | ".join(
                    ", ".join(
                        f"{event} {share:.2f}"
                        for event, share in list(
                            cpu.get("database_active_sessions", {}).get(database, {}).items()
                        )[:4]
                    )
                    or "-"
                    for _, cpu, _ in phases
                )
                + " |"
            )
    lines.append(
        "| machine busy | "
        + " | ".join(
            f"{cpu['machine_busy_percent']:.0f}% of {cpu['cores']}" for _, cpu, _ in phases
        )
        + " |"
    )
    return lines


def _n(value: float) -> str:
    return f"{value:,.0f}"


@dataclass
class SyncReport:
    settings: dict[str, Any]
    backfill: BackfillFigures | None = None
    parity: list[ParityFigures] = field(default_factory=list)
    throughput: list[ThroughputPhase] = field(default_factory=list)
    http: list[HttpPhase] = field(default_factory=list)
    handover: HandoverFigures | None = None
    prepare: dict[str, Any] = field(default_factory=dict)

    # -- verdicts ---------------------------------------------------------------------------
    def failures(self) -> list[str]:
        problems = [
            f"parity {p.when} is not clean: {p.suspects}" for p in self.parity if not p.clean
        ]
        if self.prepare.get("missing"):
            problems.append(
                f"{self.prepare['missing']} events of the chains' logins were not applied on auth"
            )
        for phase in self.throughput:
            if phase.lag.missing:
                problems.append(
                    f"at {phase.rate:g} events/s, {phase.lag.missing} events were not applied on "
                    "auth"
                )
            if phase.errors > MAX_ERROR_RATIO * max(1, int(phase.generator.get("operations", 0))):
                problems.append(
                    f"at {phase.rate:g} events/s, {phase.errors} writes failed: "
                    f"{phase.generator.get('error_samples')}"
                )
        for phase in self.http:
            if phase.lag.missing:
                problems.append(
                    f"HTTP load with {phase.clients} clients: {phase.lag.missing} events were not "
                    "applied on auth"
                )
        if self.handover is not None:
            for name, lag in self.handover.lags.items():
                if lag.missing:
                    problems.append(f"handovers: {lag.missing} events {name} were not applied")
            for flip in self.handover.flips:
                if flip.pause_s is None:
                    problems.append(f"handover {flip.old} -> {flip.new} refused: {flip.error}")
        return problems

    def headline(self) -> ThroughputPhase | None:
        """The phase at the headline rate and duration (200 events/s for 60 s), if run."""
        matching = [
            p
            for p in self.throughput
            if p.rate == TARGETS["headline_rate"]
            and not p.search
            and p.duration_s >= TARGETS["headline_duration_s"]
        ]
        matching = matching or [p for p in self.throughput if p.rate == TARGETS["headline_rate"]]
        return max(matching, key=lambda p: p.duration_s, default=None)

    def highest_sustained(self) -> tuple[ThroughputPhase | None, ThroughputPhase | None]:
        """The highest rate carried with lag p99 under 1 s, and the lowest higher rate that was
        not (None when every rate tried was carried)."""
        carried = [p for p in self.throughput if p.sustained]
        best = max(carried, key=lambda p: p.rate, default=None)
        floor = best.rate if best else 0.0
        failed = [p for p in self.throughput if not p.sustained and p.rate > floor]
        return best, min(failed, key=lambda p: p.rate, default=None)

    def highest_http(self) -> HttpPhase | None:
        carried = [p for p in self.http if p.sustained]
        return max(carried, key=lambda p: p.events_per_s, default=None)

    # -- Markdown -----------------------------------------------------------------------------
    def to_markdown(self) -> str:
        lines = ["# Data-sync benchmark: monolith -> auth service", ""]
        lines += [f"- {key}: {value}" for key, value in self.settings.items()]
        lines += ["", *self._summary_table()]
        if self.backfill is not None or self.parity:
            lines += ["", *self._backfill_table()]
        if self.throughput:
            lines += ["", *self._throughput_table()]
        if self.http:
            lines += ["", *self._http_table()]
        if self.handover is not None:
            lines += ["", *self._handover_table()]
        problems = self.failures()
        if problems:
            lines += ["", "## Problems", "", *[f"- {p}" for p in problems]]
        return "\n".join(lines) + "\n"

    def _summary_table(self) -> list[str]:
        before = BEFORE
        lines = [
            "## Summary: before and now",
            "",
            f"Before: the previous sync design, measured on {before['date']} by the previous "
            "version of this benchmark (one Celery consumer, registrations through HTTP, a flip "
            "that waited for an empty outbox). Now: this run.",
            "",
            "| measure | before | now | target |",
            "| --- | --- | --- | --- |",
        ]
        b = before["backfill"]
        now = "-"
        if self.backfill is not None:
            f = self.backfill
            now = (
                f"{_n(f.users_per_s)} users/s ({_n(f.copied.get('user', 0))} in "
                f"{f.users_s:.1f} s, batch {f.batch})"
            )
            now += " ✓" if f.users_per_s >= TARGETS["backfill_rows_per_s"] else " ✗"
        lines.append(
            f"| backfill | {_n(b['rows_per_s'])} users/s ({_n(b['rows'])} in {b['seconds']} s, "
            f"batch {b['batch']}) | {now} | ≥ {_n(TARGETS['backfill_rows_per_s'])} rows/s |"
        )
        p = before["parity"]
        # The parity timed over the rows written into both databases for it, else the largest.
        seeded = [x for x in self.parity if x.setup]
        big = max(seeded or self.parity, key=lambda x: x.rows, default=None)
        now = "-"
        if big is not None:
            now = f"{_n(big.rows)} rows in {big.seconds:.1f} s ({_n(big.rows_per_s)} rows/s)"
            tokens = big.counts.get("refresh_token", [0])[0]
            tokens_s = big.seconds_by_aggregate.get("refresh_token")
            if tokens and tokens_s:
                now += f"; of which {_n(tokens)} refresh tokens in {tokens_s:.1f} s"
            now += " ✓" if big.seconds < TARGETS["parity_seconds"] and big.clean else " ✗"
        lines.append(
            f"| parity | {_n(p['rows'])} rows in {p['seconds']} s ({_n(p['rows_per_s'])} rows/s) "
            f"| {now} | 1,000,000 rows < {TARGETS['parity_seconds']:g} s |"
        )
        rates = sorted({*before["lag"], *(ph.rate for ph in self.throughput)})
        for rate in rates:
            old = before["lag"].get(rate)
            phases = [ph for ph in self.throughput if ph.rate == rate]
            phase = max(phases, key=lambda ph: ph.duration_s, default=None)
            now = "-"
            if phase is not None:
                e2e = phase.lag.end_to_end
                now = (
                    f"{_ms(e2e and e2e.p50_ms)} / {_ms(e2e and e2e.p99_ms)} ms "
                    f"({phase.duration_s:g} s, {phase.achieved:.0f}/s achieved)"
                )
            target = "p99 < 1,000 ms"
            if rate == TARGETS["headline_rate"]:
                target += f" for {TARGETS['headline_duration_s']:g} s (headline)"
            lines.append(
                f"| lag p50 / p99 at {rate:g} events/s | "
                f"{f'{old[0]} / {old[1]} ms' if old else '-'} | {now} | {target} |"
            )
        best, first_failed = self.highest_sustained()
        now = "-"
        if self.throughput:
            now = f"{best.rate:g} events/s" if best else "none of the rates tried"
            if first_failed is not None:
                e2e = first_failed.lag.end_to_end
                now += (
                    f" (not at {first_failed.rate:g}/s: p99 {_ms(e2e and e2e.p99_ms)} ms, "
                    f"{first_failed.achieved:.0f}/s achieved)"
                )
            else:
                now += " (every rate tried)"
        lines.append(
            f"| highest rate with lag p99 < 1 s (in-process writes) | {before['highest_rate']} "
            f"| {now} | ≥ {TARGETS['headline_rate']:g} events/s |"
        )
        top = self.highest_http()
        now = "-"
        if self.http:
            if top is None:
                now = "no client count kept p99 under 1 s"
            else:
                e2e = top.lag.end_to_end
                now = (
                    f"{top.events_per_s:.0f} write events/s, lag p99 {_ms(e2e and e2e.p99_ms)} ms "
                    f"({top.clients} clients)"
                )
        lines.append(f"| highest rate through HTTP writes (closed loop) | - | {now} | - |")
        now = "-"
        if self.handover is not None:
            h = self.handover.to_dict()
            refused = sum(1 for f in self.handover.flips if f.pause_s is None)
            now = (
                f"pause p50 {_ms(h['pause_p50_ms'])} ms, max {_ms(h['pause_max_ms'])} ms over "
                f"{len(self.handover.flips)} flips under {self.handover.clients} writing clients"
                + (f", {refused} refused" if refused else "")
            )
        lines.append(f"| handover | {before['handover']} | {now} | - |")
        return lines

    def _backfill_table(self) -> list[str]:
        lines = [
            "## Backfill and parity",
            "",
            "| step | rows | seconds | rows/s | notes |",
            "| --- | ---: | ---: | ---: | --- |",
        ]
        b = self.backfill
        if b is not None:
            users = b.copied.get("user", 0)
            tokens = b.copied.get("refresh_token", 0)
            tokens_s = b.wall_s - b.users_s
            tokens_rate = f"{tokens / tokens_s:.0f}" if tokens and tokens_s > 0 else "-"
            tokens_note = "none exist before the sync starts" if not tokens else ""
            insert_rate = b.users_inserted / b.insert_s if b.insert_s else 0.0
            lines += [
                f"| insert users into the monolith (setup) | {b.users_inserted} | "
                f"{b.insert_s:.1f} | {insert_rate:.0f} | one INSERT ... SELECT, no outbox events |",
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
            timings = ", ".join(f"{a} {s:.1f} s" for a, s in p.seconds_by_aggregate.items())
            verdict = "clean" if p.clean else "DIFFERS"
            notes = f"{verdict} (monolith/auth rows: {counts})"
            if timings:
                notes += f"; {timings}"
            if p.setup:
                notes += f"; {p.setup}"
            lines.append(
                f"| parity {p.when} | {p.rows} | {p.seconds:.1f} | {p.rows_per_s:.0f} | {notes} |"
            )
        return lines

    def _throughput_table(self) -> list[str]:
        lines = [
            "## Sync throughput: in-process writes at a fixed rate",
            "",
            "The generator (bench/sync_generator.py) calls accounts.services in a process of its "
            "own on the monolith's database, open loop: operation n is due at start + n / rate. "
            "Lag: the outbox row's created_at (monolith) to the inbox row's applied_at (auth), "
            "joined on event_id; relayed: created_at to the relay's sent_at. Write: the "
            "service call's latency from its due time. A rate is carried when lag p99 < 1 s, "
            f"no event is lost and the generator achieved ≥ {ACHIEVED_RATIO:.0%} of it.",
        ]
        if self.prepare:
            lines += [
                "",
                f"Setup: {self.prepare.get('chains')} refresh-token chains (one login each of "
                f"users spread over the ids) issued in {self.prepare.get('seconds', 0):.1f} s "
                "and synced before the first load.",
            ]
        lines += [
            "",
            "| events/s offered | seconds | kind | writes ok / failed | achieved events/s "
            "| applied /s | lag p50 ms | lag p90 ms | lag p99 ms | lag max ms | relayed p50 ms "
            "| relayed p99 ms | relay batches | write p50 ms | write p99 ms | drained after s "
            "| load avg | carried |",
            "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for phase in self.throughput:
            lag, gen = phase.lag, phase.generator
            e2e: Distribution | None = lag.end_to_end
            sent: Distribution | None = lag.until_sent
            write = gen.get("latency_ms") or {}
            lines.append(
                f"| {phase.rate:g}{' (search)' if phase.search else ''} | {phase.duration_s:g} "
                f"| {phase.kind} | {gen.get('succeeded', 0)} / {gen.get('errors', 0)} "
                f"| {phase.achieved:.1f} | {lag.applied_per_s:.1f} "
                f"| {_ms(e2e and e2e.p50_ms)} | {_ms(e2e and e2e.p90_ms)} "
                f"| {_ms(e2e and e2e.p99_ms)} | {_ms(e2e and e2e.max_ms)} "
                f"| {_ms(sent and sent.p50_ms)} | {_ms(sent and sent.p99_ms)} "
                f"| {lag.relay_batches} | {_ms(write.get('p50_ms'))} | {_ms(write.get('p99_ms'))} "
                f"| {phase.drain_s:.1f} | {phase.load_average:.2f} "
                f"| {'yes' if phase.sustained else 'no'} |"
            )
        lines += ["", "Lag p50 (max) per 5 s window of each load, in ms:", ""]
        for phase in self.throughput:
            windows = ", ".join(f"{w.p50_ms:.0f} ({w.max_ms:.0f})" for w in phase.lag.windows)
            lines.append(f"- {phase.rate:g}/s{' (search)' if phase.search else ''}: {windows}")
        lines += _cpu_table(
            [
                (f"{p.rate:g}/s{' (search)' if p.search else ''}", p.cpu, p.lag.events)
                for p in self.throughput
            ]
        )
        return lines

    def _http_table(self) -> list[str]:
        lines = [
            "## Writes through HTTP: closed loop on the monolith's API",
            "",
            "bench.write_load.WriteLoad against the monolith (gunicorn), no pause: each client "
            "registers and logs in once, then alternates a read (me, products, cart) and a "
            "refresh-token rotation (2 events). Write events/s: the monolith's outbox rows "
            "created during the load / its duration.",
            "",
            "| clients | seconds | requests | failed | write events | write events/s "
            "| request p50 ms | request p99 ms | refresh p99 ms | lag p50 ms | lag p99 ms "
            "| lag max ms | drained after s | load avg | lag p99 < 1 s |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: | ---: | --- |",
        ]
        for phase in self.http:
            load, e2e = phase.load, phase.lag.end_to_end
            refresh = (load.get("p99_by_kind_s") or {}).get("refresh")
            lines.append(
                f"| {phase.clients} | {phase.duration_s:g} | {load.get('requests', 0)} "
                f"| {load.get('failed', 0)} | {phase.lag.events} | {phase.events_per_s:.1f} "
                f"| {_s_ms(load.get('p50_s'))} | {_s_ms(load.get('p99_s'))} | {_s_ms(refresh)} "
                f"| {_ms(e2e and e2e.p50_ms)} | {_ms(e2e and e2e.p99_ms)} "
                f"| {_ms(e2e and e2e.max_ms)} | {phase.drain_s:.1f} | {phase.load_average:.2f} "
                f"| {'yes' if phase.sustained else 'no'} |"
            )
        lines += _cpu_table([(f"{p.clients} clients", p.cpu, p.lag.events) for p in self.http])
        return lines

    def _handover_table(self) -> list[str]:
        h = self.handover
        summary = h.to_dict()
        load = h.load
        lines = [
            "## Handover under writes",
            "",
            f"strangler.sync.flip.hand_over, {len(h.flips)} times alternating monolith -> auth "
            f"and auth -> monolith, one second apart, while {h.clients} WriteLoad clients write "
            "through the monolith's URL (forwarded to the owner). after_id: the old owner's "
            "outbox last_id just before the flip. Pause: from the new owner's `handover` mark "
            "until the old owner forwards (what hand_over returns).",
            "",
            f"- pause p50 {_ms(summary['pause_p50_ms'])} ms, max {_ms(summary['pause_max_ms'])} "
            f"ms; {h.events} write events in {h.wall_s:.1f} s "
            f"({h.events / h.wall_s if h.wall_s else 0:.1f}/s)",
            f"- requests {load.get('requests', 0)}, failed {load.get('failed', 0)}, request p99 "
            f"{_s_ms(load.get('p99_s'))} ms, max {_s_ms(load.get('max_s'))} ms; "
            f"slowest: {', '.join(load.get('slowest', [])[:3])}",
        ]
        for name, lag in h.lags.items():
            e2e = lag.end_to_end
            lines.append(
                f"- sync {name}: {lag.applied}/{lag.events} events applied, lag p50 "
                f"{_ms(e2e and e2e.p50_ms)} ms, p99 {_ms(e2e and e2e.p99_ms)} ms, max "
                f"{_ms(e2e and e2e.max_ms)} ms"
            )
        if load.get("failures"):
            lines.append(f"- failures: {load['failures'][:3]}")
        calls = h.mean_calls_ms()
        if calls:
            lines += [
                "",
                "Where the pause goes: hand_over's calls to the backends' /internal/sync/ API, "
                "mean per flip (the fence waits for writes under way; `behind` is polled every "
                "20 ms until the new owner holds the watermark):",
                "",
                "| call | ms per flip | calls per flip |",
                "| --- | ---: | ---: |",
                *[f"| {kind} | {ms:.0f} | {n:.1f} |" for kind, (ms, n) in calls.items()],
            ]
        lines += [
            "",
            "| # | from | to | after_id | pause ms |",
            "| ---: | --- | --- | ---: | ---: |",
        ]
        for number, flip in enumerate(h.flips, 1):
            pause = (
                _ms(flip.pause_s * 1000) if flip.pause_s is not None else f"refused: {flip.error}"
            )
            lines.append(f"| {number} | {flip.old} | {flip.new} | {flip.after_id} | {pause} |")
        return lines

    # -- JSON ---------------------------------------------------------------------------------
    def to_json(self) -> str:
        best, first_failed = self.highest_sustained()
        top_http = self.highest_http()
        headline = self.headline()
        payload: dict[str, Any] = {
            "settings": self.settings,
            "before": {**BEFORE, "lag": {f"{k:g}": v for k, v in BEFORE["lag"].items()}},
            "targets": TARGETS,
            "summary": {
                "backfill_users_per_s": round(self.backfill.users_per_s, 1)
                if self.backfill
                else None,
                "parity": [
                    {
                        "when": p.when,
                        "rows": p.rows,
                        "seconds": round(p.seconds, 2),
                        "rows_per_s": round(p.rows_per_s, 1),
                        "clean": p.clean,
                    }
                    for p in self.parity
                ],
                "headline": headline.to_dict() | {"generator": None, "lag": None}
                if headline
                else None,
                "headline_lag_p99_ms": headline.lag.end_to_end.p99_ms
                if headline and headline.lag.end_to_end
                else None,
                "highest_sustained_events_per_s": best.rate if best else None,
                "first_rate_not_sustained": first_failed.rate if first_failed else None,
                "highest_http_write_events_per_s": round(top_http.events_per_s, 1)
                if top_http
                else None,
                "handover": {
                    k: v
                    for k, v in (self.handover.to_dict() if self.handover else {}).items()
                    if k in ("pause_p50_ms", "pause_max_ms", "clients")
                },
            },
        }
        if self.backfill is not None:
            payload["backfill"] = {
                **asdict(self.backfill),
                "users_per_s": round(self.backfill.users_per_s, 1),
                "rows_per_s": round(self.backfill.rows_per_s, 1),
            }
        payload["parity"] = [asdict(p) for p in self.parity]
        payload["prepare"] = self.prepare
        payload["throughput"] = [phase.to_dict() for phase in self.throughput]
        payload["http"] = [phase.to_dict() for phase in self.http]
        payload["handover"] = self.handover.to_dict() if self.handover else None
        payload["problems"] = self.failures()
        return json.dumps(payload, indent=2, default=str) + "\n"

    def write(self, directory: Path) -> tuple[Path, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        markdown, machine = directory / "sync.md", directory / "sync.json"
        markdown.write_text(self.to_markdown())
        machine.write_text(self.to_json())
        return markdown, machine
