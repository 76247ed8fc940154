import json
from pathlib import Path

from bench.open_loop import LoadResult
from bench.sync_lag import LagReport, Window, distribution
from bench.sync_report import BackfillFigures, LagPhase, ParityFigures, SyncReport


def lag_phase(*, rate: float, applied: int, errors: int = 0) -> LagPhase:
    return LagPhase(
        rate=rate,
        duration_s=1.0,
        load_average=0.5,
        load=LoadResult(offered=10, succeeded=10 - errors, errors=errors, wall_s=1.0),
        lag=LagReport(
            events=10,
            applied=applied,
            outcomes={"applied": applied},
            by_aggregate={"user": 10},
            end_to_end=distribution([12.0] * applied),
            until_sent=distribution([5.0] * 10),
            applied_per_s=9.0,
            windows=[Window(start_s=0.0, events=applied, p50_ms=12.0, max_ms=12.0)],
        ),
        drain_s=0.3,
    )


def report(*, clean: bool, applied: int, errors: int = 0) -> SyncReport:
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
            )
        ],
        lag_phases=[lag_phase(rate=10, applied=applied, errors=errors)],
    )


def test_a_clean_run_reports_users_per_second_and_the_lag_percentiles(tmp_path: Path) -> None:
    markdown, machine = report(clean=True, applied=10).write(tmp_path)
    text = markdown.read_text()
    assert "| backfill `user` | 1000 | 4.0 | 250 | batch 500 rows per call |" in text
    assert "load average at start (1/5/15 min): 0.50 / 0.40 / 0.30" in text
    assert "| 10 | 10 / 0 | 10.0 | 9.0 | 12 | 12 | 12 | 12 | 5 | 5 |" in text
    assert "- 10/s: 12 (12)" in text
    assert "Problems" not in text
    payload = json.loads(machine.read_text())
    assert payload["backfill"]["users_per_s"] == 250.0
    assert payload["lag"][0]["lag"]["end_to_end"]["p99_ms"] == 12.0
    assert payload["problems"] == []


def test_unclean_parity_unapplied_events_and_failed_requests_are_problems() -> None:
    problems = report(clean=False, applied=8, errors=2).failures()
    assert len(problems) == 3
    assert "parity after backfill is not clean" in problems[0]
    assert "2 events were not applied" in problems[1]
    assert "2 registrations failed" in problems[2]
