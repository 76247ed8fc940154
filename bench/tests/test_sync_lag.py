from datetime import UTC, datetime, timedelta

import pytest

from bench.sync_lag import InboxRow, OutboxRow, distribution, join_lags, percentile

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def outbox(event_id: str, *, created_ms: int, sent_ms: int | None) -> OutboxRow:
    sent = None if sent_ms is None else T0 + timedelta(milliseconds=sent_ms)
    return OutboxRow(event_id, "user", T0 + timedelta(milliseconds=created_ms), sent)


def inbox(event_id: str, *, applied_ms: int, outcome: str = "applied") -> InboxRow:
    return InboxRow(event_id, outcome, T0 + timedelta(milliseconds=applied_ms))


def test_percentile_is_the_nearest_observed_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_distribution_of_no_values_is_none() -> None:
    assert distribution([]) is None


def test_lag_runs_from_outbox_creation_to_inbox_application_joined_on_event_id() -> None:
    rows = [
        outbox("a", created_ms=0, sent_ms=30),
        outbox("b", created_ms=100, sent_ms=120),
        outbox("c", created_ms=200, sent_ms=250),
    ]
    applied = {
        "a": inbox("a", applied_ms=40),
        "b": inbox("b", applied_ms=190),
        "c": inbox("c", applied_ms=260, outcome="stale"),
    }
    report = join_lags(rows, applied)
    assert report.events == 3
    assert report.applied == 3
    assert report.missing == 0
    assert report.outcomes == {"applied": 2, "stale": 1}
    assert report.end_to_end.p50_ms == 60.0
    assert report.end_to_end.max_ms == 90.0
    assert report.until_sent.p50_ms == 30.0


def test_events_missing_from_the_inbox_are_counted_and_left_out_of_the_lag() -> None:
    rows = [outbox("a", created_ms=0, sent_ms=None), outbox("b", created_ms=0, sent_ms=5)]
    report = join_lags(rows, {"b": inbox("b", applied_ms=15)})
    assert report.missing == 1
    assert report.end_to_end.count == 1
    assert report.end_to_end.max_ms == 15.0
    assert report.until_sent.count == 1


def test_windows_show_a_backlog_growing_and_the_consumer_pace() -> None:
    rows = [outbox(f"e{n}", created_ms=n * 1000, sent_ms=n * 1000 + 10) for n in range(10)]
    applied = {f"e{n}": inbox(f"e{n}", applied_ms=n * 1000 + 100 * n) for n in range(10)}
    report = join_lags(rows, applied, window_s=5.0)
    assert [w.start_s for w in report.windows] == [0.0, 5.0]
    assert [w.events for w in report.windows] == [5, 5]
    assert report.windows[0].p50_ms == 200.0
    assert report.windows[1].max_ms == 900.0
    # 10 events applied between 0 s and 9.9 s
    assert report.applied_per_s == round(9 / 9.9, 1)


def test_the_writers_pace_and_the_relay_batches_are_read_from_the_outbox() -> None:
    rows = [
        outbox("a", created_ms=0, sent_ms=50),
        outbox("b", created_ms=20, sent_ms=50),
        outbox("c", created_ms=1000, sent_ms=1100),
    ]
    report = join_lags(rows, {})
    # 3 events created over 1 s: 2 intervals
    assert report.created_per_s == 2.0
    # a and b went out in one relay batch (one sent_at), c in another
    assert report.relay_batches == 2
