"""The checkout latency benchmark's report is pinned by a golden file (golden/orders.md);
after an intended change, rewrite it with STRANGLER_UPDATE_GOLDEN=1 and review the diff."""

import json
import os
from pathlib import Path

from bench.orders_report import MONOLITH_STEP, ORDERS_STEP, OrdersReport, Phase

GOLDEN = Path(__file__).parent / "golden" / "orders.md"


def phase(step: str, round_number: int, checkout_ms: list[float], **extra: list[float]) -> Phase:
    timings = {"checkout": checkout_ms, "cart": [ms / 2 for ms in checkout_ms], **extra}
    return Phase(
        step=step, round=round_number, checkouts=len(checkout_ms), seconds=2.0, timings=timings
    )


def at_orders(round_number: int, checkout_ms: list[float], **extra: list[float]) -> Phase:
    """A phase at 5-orders whose every checkout made one reservation of 10 ms."""
    reservations = {"reservation_proxy": [10.0] * len(checkout_ms)}
    return phase(ORDERS_STEP, round_number, checkout_ms, **{**reservations, **extra})


def report(*orders_ms: float) -> OrdersReport:
    """Rounds 0, 5, 5, 0 of three checkouts each; the monolith's take 40, 50 and 60 ms."""
    orders = list(orders_ms or (48.0, 60.0, 72.0))
    return OrdersReport(
        settings={"load average at start (1/5/15 min)": "0.50 / 0.40 / 0.30"},
        phases=[
            phase(MONOLITH_STEP, 1, [40.0, 50.0, 60.0], checkout_backend=[30.0, 35.0, 40.0]),
            at_orders(
                1, orders, reservation_catalog=[4.0, 5.0, 6.0], checkout_own=[30.0, 38.0, 50.0]
            ),
            at_orders(2, [ms * 1.5 for ms in orders]),
            phase(MONOLITH_STEP, 2, [40.0, 50.0, 60.0]),
        ],
    )


def test_the_report_renders_as_the_golden_file() -> None:
    text = report().to_markdown()
    if os.environ.get("STRANGLER_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_the_ratio_pools_every_round_and_each_round_has_its_own() -> None:
    measured = report()

    # 5-orders pooled: 48, 60, 72, 72, 90, 108 (nearest rank p50: 72); 0-monolith's p50: 50.
    assert measured.ratio() == 72.0 / 50.0
    assert measured.ratio("p99_ms") == 108.0 / 60.0
    assert measured.round_ratios() == [60.0 / 50.0, 90.0 / 50.0]


def test_a_clean_run_has_no_problems_and_says_so_in_json(tmp_path: Path) -> None:
    markdown, machine = report().write(tmp_path)
    payload = json.loads(machine.read_text())

    assert "## Problems" not in markdown.read_text()
    assert payload["problems"] == []
    assert payload["summary"]["ratio_p50"] == 1.44
    assert payload["summary"][ORDERS_STEP]["reservation_proxy"]["p50_ms"] == 10.0
    assert payload["summary"][MONOLITH_STEP]["reservation_proxy"] is None


def test_the_verdict_names_the_goal_and_the_limit() -> None:
    assert report(50.0, 55.0, 60.0).verdict() == "within the goal"
    assert report().verdict() == "within the limit, over the 1.2x goal"
    assert report(80.0, 90.0, 100.0).verdict() == "OVER THE LIMIT"


def test_failures_missing_reservations_and_a_ratio_over_the_limit_are_problems() -> None:
    broken = report(80.0, 90.0, 100.0)
    broken.phases[0].errors = 2
    broken.phases[1].timings["reservation_proxy"].pop()
    broken.phases[3].timings["reservation_proxy"] = [12.0]

    assert broken.problems() == [
        "0-monolith, round 1: 2 requests failed",
        "5-orders, round 1: 2 reservation calls logged for 3 checkouts",
        "0-monolith, round 2: 1 internal reservation calls",
        "the checkout median at 5-orders is 2.00x the one at 0-monolith, over the 1.5x allowed",
    ]
    assert "## Problems" in broken.to_markdown()
