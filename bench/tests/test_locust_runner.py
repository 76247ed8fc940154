import pytest

from bench.locust_runner import FLOW_NAME, ROWS, LocustError, parse_stats, percentile


def entry(name: str, histogram: dict[str, int], *, failures: int = 0, seconds: float = 4.0):
    return {
        "name": name,
        "method": "FLOW" if name == FLOW_NAME else "POST",
        "start_time": 1000.0,
        "last_request_timestamp": 1000.0 + seconds,
        "num_requests": sum(histogram.values()),
        "num_failures": failures,
        "response_times": histogram,
    }


def test_percentile_is_the_nearest_rank_of_the_histogram() -> None:
    histogram = {"10": 50, "20": 49, "100": 1}
    assert percentile(histogram, 0.50) == 10.0
    assert percentile(histogram, 0.99) == 20.0
    assert percentile(histogram, 1.0) == 100.0
    assert percentile({}, 0.5) == 0.0


def test_parse_stats_reports_the_flow_and_its_steps_with_rates() -> None:
    entries = [entry(name, {"30": 100}) for name in ROWS]
    entries[0] = entry(FLOW_NAME, {"60": 99, "200": 1}, failures=1)
    failures = "Method,Name,Error,Occurrences\nPOST,POST /api/orders,409 out_of_stock,1\n"
    results = parse_stats(entries, failures=failures)
    assert [row.scenario for row in results] == list(ROWS.values())
    flow = results[0]
    assert (flow.requests, flow.errors, flow.requests_per_s) == (100, 1, 25.0)
    assert (flow.p50_ms, flow.p99_ms) == (60.0, 60.0)
    assert flow.notes == "first failure: POST /api/orders: 409 out_of_stock"


def test_parse_stats_fails_when_locust_recorded_no_checkout() -> None:
    with pytest.raises(LocustError, match="lack"):
        parse_stats([entry("PUT /api/cart/items/{id}", {"30": 1})])
