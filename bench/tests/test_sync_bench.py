from bench.sync_bench import next_search_rate, parse_args
from bench.sync_cpu import ProcessTime, Snapshot, classify, usage
from bench.sync_generator import RunFigures
from bench.tests.test_sync_report import throughput


def test_the_search_bisects_between_the_highest_rate_carried_and_the_next_one() -> None:
    phases = [throughput(rate=100), throughput(rate=200), throughput(rate=400, lag_ms=3000.0)]
    assert next_search_rate(phases) == 300.0
    phases.append(throughput(rate=300, lag_ms=1500.0))
    assert next_search_rate(phases) == 250.0
    phases.append(throughput(rate=250))
    # 250 carried, 300 not: within 10%... of 300 is 30, the gap of 50 is still searched
    assert next_search_rate(phases) == 280.0
    phases.append(throughput(rate=280))
    assert next_search_rate(phases) is None


def test_the_search_doubles_when_every_rate_was_carried_and_stops_when_none_was() -> None:
    assert next_search_rate([throughput(rate=50), throughput(rate=400)]) == 800.0
    assert next_search_rate([throughput(rate=50, lag_ms=2000.0)]) == 20.0
    assert next_search_rate([throughput(rate=10, lag_ms=2000.0)]) is None


def test_the_defaults_are_the_full_benchmark() -> None:
    args = parse_args([])
    assert args.users == 100_000 and args.batch == 10_000 and args.parity_rows == 1_000_000
    assert args.rates == (50.0, 100.0, 200.0, 400.0) and args.headline_duration == 60.0
    assert args.flips == 10


def test_generator_figures_merge_over_processes() -> None:
    parts = [
        RunFigures(
            kind="rotate",
            rate=50.0,
            duration_s=10.0,
            threads=4,
            operations=250,
            succeeded=250,
            wall_s=10.1,
            latencies_ms=[5.0] * 250,
            start_delays_ms=[1.0] * 250,
        ),
        RunFigures(
            kind="rotate",
            rate=50.0,
            duration_s=10.0,
            threads=4,
            operations=250,
            succeeded=249,
            errors=1,
            wall_s=10.0,
            latencies_ms=[7.0] * 249,
            start_delays_ms=[1.0] * 250,
            error_samples=["InvalidRefreshToken: "],
        ),
    ]
    summary = RunFigures.merge(parts).summary()
    assert summary["rate"] == 100.0 and summary["processes"] == 2
    assert summary["events"] == 2 * 499
    assert summary["achieved_events_per_s"] == round(998 / 10.1, 1)
    assert summary["errors"] == 1 and summary["error_samples"] == ["InvalidRefreshToken: "]


def test_processes_are_told_apart_by_their_command_line() -> None:
    databases = {"shop_e_sync_live_e_auth": "auth"}
    assert (
        classify(
            "postgres: postgres shop_e_sync_live_e_auth 127.0.0.1(5) idle",
            databases=databases,
            own=False,
        )
        == "postgres: auth database"
    )
    celery = ".venv/bin/celery -A authsvc worker --pool solo --queues sync.auth.0"
    assert classify(celery, databases=databases, own=True) == "auth consumers"
    assert classify(celery, databases=databases, own=False) is None
    relay = ".venv/bin/python /work/main/manage.py sync_relay --interval 0.05"
    assert classify(relay, databases=databases, own=True) == "monolith relay"


def test_cpu_usage_is_the_difference_of_two_snapshots() -> None:
    before = Snapshot({1: ProcessTime("generator", 2.0)}, busy_s=10.0, total_s=100.0)
    after = Snapshot(
        {1: ProcessTime("generator", 5.0), 2: ProcessTime("generator", 1.0)},
        busy_s=16.0,
        total_s=120.0,
    )
    used = usage(before, after, wall_s=10.0)
    assert used.by_component == {"generator": 4.0}
    assert used.to_dict()["other_s"] == 2.0
