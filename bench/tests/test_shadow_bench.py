import json

from bench.report import ScenarioResult
from bench.shadow_bench import load_shapes, parse_args
from bench.shadow_results import (
    OFF,
    ON,
    ProxyTimes,
    ShadowLog,
    Window,
    compare,
    conditions_of_round,
    proxy_times,
    shadow_log_counts,
    to_json,
    to_markdown,
    with_report,
)


def answer(status: int | None, error: str | None = None) -> dict:
    return {"route": "product", "status": status, "body": "{}", "error": error}


# The admin endpoint's answer (GET /__strangler/shadow), as strangler/proxy/lua/strangler/shadow.lua
# writes it: a dropped copy leaves the primary's answer alone.
SHADOW_LOG = {
    "count": 5,
    "inflight": 0,
    "dropped": 1,
    "entries": [
        {
            "request_id": "a",
            "primary": answer(200),
            "shadow": answer(200),
            "secondary": answer(200),
        },
        {
            "request_id": "b",
            "primary": answer(200),
            "shadow": answer(404),
            "secondary": answer(200),
        },
        {
            "request_id": "c",
            "primary": answer(200),
            "shadow": answer(503),
            "secondary": answer(200),
        },
        {
            "request_id": "d",
            "primary": answer(200),
            "shadow": answer(None, "connect: connection refused"),
            "secondary": answer(200),
        },
        {"request_id": "e", "primary": answer(200), "shadow": None, "secondary": None},
    ],
}


def wrk(rps: float, p99: float, *, requests: int = 100, errors: int = 0) -> ScenarioResult:
    return ScenarioResult(
        scenario="x",
        tool="wrk",
        requests=requests,
        errors=errors,
        duration_s=10.0,
        requests_per_s=rps,
        p50_ms=p99 / 4,
        p99_ms=p99,
        p999_ms=p99 * 2,
    )


def shadow(
    *,
    dropped: int = 0,
    compared: int | None = 90,
    differing: int | None = 0,
    top_fields: tuple[tuple[str, int], ...] = (),
) -> ShadowLog:
    return ShadowLog(
        held=95,
        answered=90,
        failed=1,
        dropped=dropped,
        inflight=0,
        compared=compared,
        differing=differing,
        top_fields=top_fields,
    )


def window(
    condition: str,
    result: ScenarioResult,
    *,
    round_index: int = 0,
    proxy: ProxyTimes | None = None,
    **log,
) -> Window:
    return Window(
        round=round_index,
        load="saturating",
        endpoint="product detail",
        condition=condition,
        result=result,
        shadow=shadow(**log) if condition == ON else None,
        proxy=proxy,
    )


def test_the_shadow_log_counts_its_reads_the_shadow_answers_and_the_failed_ones() -> None:
    counts = shadow_log_counts(SHADOW_LOG)
    assert (counts.held, counts.answered, counts.failed) == (5, 4, 2)
    assert (counts.dropped, counts.inflight) == (1, 0)
    assert counts.compared is None


def test_the_shadow_report_adds_what_it_compared_on_the_windows_route_only() -> None:
    counts = shadow_log_counts(SHADOW_LOG)
    report = {
        "routes": [
            {"route": "products", "compared": 7, "differing": 1, "top_fields": []},
            {
                "route": "product",
                "compared": 4,
                "differing": 1,
                "top_fields": [{"field": "price", "differing": 1, "example": {}}],
            },
        ],
        "threshold": 0.01,
        "passed": True,
    }
    product = with_report(counts, report, route="product")
    assert (product.compared, product.differing, product.top_fields) == (4, 1, (("price", 1),))
    assert product.held == counts.held
    assert with_report(counts, report, route="categories") == counts
    assert with_report(counts, None, route="product") == counts


def access(step: str, route: str, request_time: float, upstream_time: str) -> dict:
    """One line of the proxy's access log (strangler/proxy/templates/nginx.conf.j2), parsed."""
    return {
        "step": step,
        "route": route,
        "status": 200,
        "request_time": request_time,
        "upstream_time": upstream_time,
    }


def test_the_access_log_splits_each_reads_time_into_the_primarys_and_the_proxys_own() -> None:
    entries = [access("2-catalog-shadow", "product", 0.012, "0.010")] * 98 + [
        access("2-catalog-shadow", "product", 0.050, "0.020, 0.010"),  # a retried upstream
        access("2-catalog-shadow", "product", 0.200, "0.150 : 0.030"),  # an internal redirect
        access("2-catalog-shadow", "product", 0.001, "-"),  # answered by nginx itself
        access("1-auth", "product", 9.0, "0.001"),  # the previous window's step
        access("2-catalog-shadow", "products", 9.0, "0.001"),  # another route
    ]
    times = proxy_times(entries, step="2-catalog-shadow", route="product")
    assert times is not None and times.requests == 100
    assert round(times.upstream_p99_ms, 3) == 30.0  # the 99th of 100, by nearest rank
    assert round(times.own_p99_ms, 3) == 20.0
    assert round(times.own_max_ms, 3) == 20.0
    assert proxy_times(entries, step="2-catalog-shadow", route="categories") is None


def test_conditions_alternate_and_swap_order_every_other_round() -> None:
    order = [condition for r in range(4) for condition in conditions_of_round(r)]
    assert order == [OFF, ON, ON, OFF, OFF, ON, ON, OFF]


def test_a_comparison_takes_medians_per_condition_and_ratios_within_each_rounds_pair() -> None:
    windows = [
        window(OFF, wrk(200.0, 40.0), proxy=ProxyTimes(100, 30.0, 1.0, 2.0)),
        window(
            ON,
            wrk(100.0, 80.0),
            proxy=ProxyTimes(100, 70.0, 1.0, 3.0),
            dropped=3,
            differing=1,
            top_fields=(("price", 1),),
        ),
        window(ON, wrk(120.0, 60.0), round_index=1, dropped=2, compared=None, differing=None),
        window(OFF, wrk(180.0, 50.0), round_index=1, proxy=ProxyTimes(100, 40.0, 0.0, 1.0)),
        window(OFF, wrk(20.0, 400.0), round_index=2),
        window(ON, wrk(20.0, 400.0), round_index=2),
    ]
    [comparison] = compare(windows)
    assert comparison.off.requests_per_s == 180.0 and comparison.on.requests_per_s == 100.0
    assert comparison.off.p99_ms == 50.0 and comparison.on.p99_ms == 80.0
    assert comparison.on.p999_ms == 160.0
    # Round by round: 100/200, 120/180, 20/20; a slow round weighs on both sides of its pair.
    assert comparison.ratios["requests_per_s"] == 120.0 / 180.0
    assert comparison.ratios["p99_ms"] == 60.0 / 50.0
    assert (comparison.dropped, comparison.answered, comparison.failed) == (5, 270, 3)
    # A window whose report could not be read adds nothing, it does not hide the others'.
    assert (comparison.compared, comparison.differing) == (180, 1)
    assert comparison.top_fields == (("price", 1),)
    # Windows the access log could not time are left out of those medians.
    assert (comparison.off.upstream_p99_ms, comparison.on.upstream_p99_ms) == (35.0, 70.0)
    assert (comparison.off.proxy_own_p99_ms, comparison.on.proxy_own_max_ms) == (0.5, 3.0)


def test_a_load_and_endpoint_that_ran_under_one_condition_only_is_not_compared() -> None:
    assert compare([window(OFF, wrk(200.0, 40.0))]) == []


def test_the_markdown_puts_off_and_on_side_by_side_and_lists_every_window() -> None:
    windows = [window(OFF, wrk(200.0, 40.0)), window(ON, wrk(100.0, 80.0), dropped=3)]
    settings = {"machine": "2 cores"}
    markdown = to_markdown(settings=settings, comparisons=compare(windows), windows=windows)
    assert "- machine: 2 cores" in markdown
    assert (
        "| saturating | product detail | 200 / 100 | 10.0 / 20.0 | 40.0 / 80.0 | 80.0 / 160.0 "
        "| 0.50 | 2.00 | 2.00 | 0 / 0 |"
    ) in markdown
    assert "| saturating | product detail | 100 | 3 | 90 | 1 | 90 | 0 | - |" in markdown
    assert (
        "| 1 | saturating | product detail | on | 100 | 100 | 20.0 | 80.0 | 160.0 | 0 " in markdown
    )
    payload = json.loads(to_json(settings=settings, comparisons=compare(windows), windows=windows))
    assert payload["comparisons"][0]["ratios"]["p99_ms"] == 2.0
    assert [w["condition"] for w in payload["windows"]] == [OFF, ON]


def test_the_paced_load_runs_beside_the_saturating_one_with_the_same_connections() -> None:
    args = parse_args(["--connections", "8", "--paced-pause-ms", "250"])
    saturating, paced = load_shapes(args)
    assert saturating.load.pause_ms == 0 and paced.load.pause_ms == 250
    assert saturating.load.connections == paced.load.connections == 8
    assert [shape.name for shape in load_shapes(parse_args(["--paced-pause-ms", "0"]))] == [
        "saturating"
    ]
