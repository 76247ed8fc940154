import json
from pathlib import Path

from bench.sync_lag import LagReport, Window, distribution
from bench.sync_report import (
    BackfillFigures,
    Flip,
    HandoverFigures,
    HttpPhase,
    ParityFigures,
    SyncReport,
    ThroughputPhase,
)


def lag(*, applied: int, events: int = 10, lag_ms: float = 12.0) -> LagReport:
    return LagReport(
        events=events,
        applied=applied,
        outcomes={"applied": applied},
        by_aggregate={"refresh_token": events},
        end_to_end=distribution([lag_ms] * applied),
        until_sent=distribution([5.0] * events),
        applied_per_s=9.0,
        windows=[Window(start_s=0.0, events=applied, p50_ms=lag_ms, max_ms=lag_ms)],
        created_per_s=10.0,
        relay_batches=4,
    )


def throughput(
    *, rate: float, applied: int = 10, lag_ms: float = 12.0, achieved: float | None = None
) -> ThroughputPhase:
    return ThroughputPhase(
        rate=rate,
        duration_s=60.0 if rate == 200 else 20.0,
        kind="rotate",
        load_average=0.5,
        generator={
            "operations": 5,
            "succeeded": 5,
            "errors": 0,
            "achieved_events_per_s": rate if achieved is None else achieved,
            "latency_ms": {"p50_ms": 3.0, "p99_ms": 9.0},
            "error_samples": [],
        },
        lag=lag(applied=applied, lag_ms=lag_ms),
        drain_s=0.3,
        cpu={
            "wall_s": 20.0,
            "cores": 2,
            "machine_busy_percent": 50.0,
            "cpu_s": {"generator": 4.0, "auth consumers": 2.0},
            "other_s": 1.0,
            "new_database_sessions": {"monolith": 0, "auth": 7},
        },
    )


def report(*, clean: bool = True, applied: int = 10) -> SyncReport:
    return SyncReport(
        settings={"load average at start (1/5/15 min)": "0.50 / 0.40 / 0.30"},
        backfill=BackfillFigures(
            users_inserted=1000,
            insert_s=1.0,
            batch=500,
            copied={"user": 1000, "refresh_token": 0},
            wall_s=5.0,
            users_s=4.0,
        ),
        parity=[
            ParityFigures(
                when="after backfill",
                clean=clean,
                seconds=0.5,
                counts={"user": [1000, 1000 if clean else 999]},
                suspects={} if clean else {"user": [42]},
            ),
            ParityFigures(
                when="of 1,000,000 refresh tokens",
                clean=True,
                seconds=20.0,
                counts={"user": [1000, 1000], "refresh_token": [1_000_000, 1_000_000]},
                suspects={},
                seconds_by_aggregate={"user": 0.5, "refresh_token": 19.5},
                setup="tokens written into both databases by SQL in 9.0 s",
            ),
            ParityFigures(
                when="after the write loads",
                clean=True,
                seconds=40.0,
                counts={"user": [1010, 1010], "refresh_token": [1_000_500, 1_000_500]},
                suspects={},
            ),
        ],
        throughput=[
            throughput(rate=50),
            throughput(rate=200, applied=applied),
            throughput(rate=400, lag_ms=2500.0),
        ],
        http=[
            HttpPhase(
                clients=4,
                duration_s=20.0,
                load_average=0.5,
                load={"requests": 100, "failed": 0, "p50_s": 0.01, "p99_s": 0.05},
                lag=lag(applied=10),
                drain_s=0.2,
            )
        ],
        handover=HandoverFigures(
            clients=4,
            flips=[
                Flip(old="monolith", new="auth", after_id=10, pause_s=0.1),
                Flip(old="auth", new="monolith", after_id=3, pause_s=0.3),
            ],
            load={"requests": 50, "failed": 0},
            wall_s=5.0,
            lags={"monolith -> auth": lag(applied=10), "auth -> monolith": lag(applied=10)},
        ),
    )


def test_a_clean_run_reports_each_figure_beside_the_previous_design(tmp_path: Path) -> None:
    markdown, machine = report().write(tmp_path)
    text = markdown.read_text()
    assert "| backfill `user` | 1000 | 4.0 | 250 | batch 500 rows per call |" in text
    # before and now side by side
    assert "| lag p50 / p99 at 5 events/s | 47 / 79 ms | - |" in text
    assert "| lag p50 / p99 at 200 events/s | - | 12 / 12 ms (60 s, 200/s achieved) |" in text
    assert "2,420 users/s" in text and "250 users/s" in text
    assert "1,001,000 rows in 20.0 s" in text and "1,000,000 refresh tokens in 19.5 s" in text
    # 400/s is not carried (p99 2.5 s): the highest carried is 200
    assert "| highest rate with lag p99 < 1 s (in-process writes) |" in text
    assert "200 events/s (not at 400/s: p99 2500 ms" in text
    assert "pause p50 200 ms, max 300 ms over 2 flips" in text
    assert "| generator | 0.20 (400.00) |" in text
    assert "| new PostgreSQL connections (monolith / auth database) | 0 / 7 |" in text
    assert "Problems" not in text
    payload = json.loads(machine.read_text())
    assert payload["summary"]["highest_sustained_events_per_s"] == 200
    assert payload["summary"]["first_rate_not_sustained"] == 400
    assert payload["summary"]["headline_lag_p99_ms"] == 12.0
    assert payload["summary"]["handover"]["pause_max_ms"] == 300.0
    assert payload["before"]["backfill"]["rows_per_s"] == 2420
    assert payload["problems"] == []


def test_a_rate_the_writers_did_not_keep_up_with_is_not_carried() -> None:
    assert not throughput(rate=400, achieved=300.0).sustained
    assert throughput(rate=400, achieved=390.0).sustained


def test_unclean_parity_lost_events_and_refused_handovers_are_problems() -> None:
    broken = report(clean=False, applied=8)
    broken.handover.flips.append(
        Flip(old="monolith", new="auth", after_id=12, pause_s=None, error="timed out")
    )
    problems = broken.failures()
    assert len(problems) == 3
    assert "parity after backfill is not clean" in problems[0]
    assert "at 200 events/s, 2 events were not applied" in problems[1]
    assert "refused: timed out" in problems[2]
