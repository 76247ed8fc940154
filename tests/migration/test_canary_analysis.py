"""The canary analysis as pure functions: which moves promote a canary, the verdict over
per-backend traffic, the split figures from the proxy's metrics, and `gates.canary` in the plan."""

from __future__ import annotations

import pytest

from strangler.plan import CanaryGate, PlanError, parse_plan
from strangler.proxy.canary import Analysis, Promotion, analyse, promotions
from strangler.proxy.traffic import Traffic, summarise_split
from tests.migration.exposition import exposition

PLAN = """
version: 1
backends:
  monolith: {url: "http://127.0.0.1:8000", owns: [catalog]}
  catalog: {url: "http://127.0.0.1:8002", owns: [catalog]}
routes:
  - {name: products, path: /api/products, methods: [GET, HEAD], domain: catalog}
  - {name: product, path: "/api/products/{id}", methods: [GET, HEAD], domain: catalog}
  - {name: products-create, path: /api/products, methods: [POST], domain: catalog}
steps:
  - id: 0-monolith
    title: all monolith
  - id: 1-canary
    title: a tenth of product reads from the catalog
    routes:
      products: {split: {monolith: 90, catalog: 10}}
      product: {split: {monolith: 90, catalog: 10}}
  - id: 2-half
    title: half of the list reads, a tenth still of the detail
    routes:
      products: {split: {monolith: 50, catalog: 50}}
      product: {split: {monolith: 90, catalog: 10}}
  - id: 3-catalog
    title: the catalog owns it all
    owners: {catalog: catalog}
"""

GATE = CanaryGate(
    max_error_rate_increase=0.01,
    max_p99_ratio=1.5,
    p99_floor_ms=10.0,
    min_requests=50,
    window_minutes=5.0,
)
PRODUCTS = (Promotion(route="products", primary="monolith", canary="catalog"),)


@pytest.fixture(scope="module")
def plan():
    return parse_plan(PLAN, file="plan.yaml", env={})


def moves(plan, current: str, target: str) -> list[tuple[str, str, str]]:
    found = promotions(current=plan.step(current), target=plan.step(target))
    return [(p.route, p.primary, p.canary) for p in found]


def traffic(
    *, catalog: tuple[int, int, float], monolith: tuple[int, int, float] = (900, 0, 20.0)
) -> dict[tuple[str, str], Traffic]:
    """(requests, errors, p99 ms) of each side of the products route."""
    return {
        ("products", name): Traffic(requests=requests, errors=errors, p99_ms=p99)
        for name, (requests, errors, p99) in (("catalog", catalog), ("monolith", monolith))
    }


def reasons(figures: dict[tuple[str, str], Traffic], gate: CanaryGate = GATE) -> tuple[str, ...]:
    return analyse(PRODUCTS, figures, gate=gate, step="1-canary")


# -- which moves are judged ---------------------------------------------------------------------


def test_leaving_a_split_for_a_step_that_gives_the_canary_more_promotes_it(plan):
    assert moves(plan, "1-canary", "3-catalog") == [
        ("products", "monolith", "catalog"),
        ("product", "monolith", "catalog"),
    ]
    # Only the route whose canary share grows.
    assert moves(plan, "1-canary", "2-half") == [("products", "monolith", "catalog")]


def test_moving_back_or_giving_the_canary_less_is_never_judged(plan):
    assert moves(plan, "1-canary", "0-monolith") == []
    assert moves(plan, "2-half", "1-canary") == []
    assert moves(plan, "3-catalog", "1-canary") == []
    assert moves(plan, "0-monolith", "1-canary") == []  # no split to leave


# -- the verdict --------------------------------------------------------------------------------


def test_a_canary_as_good_as_the_primary_passes():
    assert reasons(traffic(catalog=(100, 1, 25.0), monolith=(900, 3, 20.0))) == ()


def test_too_few_requests_on_either_side_of_every_route_refuses_naming_both_counts():
    assert reasons(traffic(catalog=(49, 0, 5.0), monolith=(40, 0, 5.0))) == (
        "too few requests to judge catalog: on products catalog served 49 and monolith served "
        "40 in the last 5 min at 1-canary, fewer than 50 on each side of at least one split "
        "route (gates.canary.min_requests)",
    )
    (only,) = reasons({("products", "monolith"): Traffic(900, 0, 5.0)})
    assert "on products catalog served 0 in the last 5 min" in only


def test_a_route_with_too_few_requests_is_not_judged_while_another_route_is():
    both = (*PRODUCTS, Promotion(route="product", primary="monolith", canary="catalog"))
    figures = {
        **traffic(catalog=(100, 0, 25.0)),
        # Every read failed, and slowly: still too few to judge the detail route alone.
        ("product", "catalog"): Traffic(requests=3, errors=3, p99_ms=900.0),
        ("product", "monolith"): Traffic(requests=900, errors=0, p99_ms=20.0),
    }
    assert analyse(both, figures, gate=GATE, step="1-canary") == ()
    # The route judged still refuses on its own figures, and alone.
    figures.update(traffic(catalog=(100, 3, 5.0), monolith=(1000, 10, 5.0)))
    assert analyse(both, figures, gate=GATE, step="1-canary") == (
        "catalog's 5xx rate on products is 3.0%, more than monolith's 1.0% + 1 points "
        "(gates.canary.max_error_rate_increase)",
    )
    # With no route judged, one reason names every route's counts.
    figures.update(traffic(catalog=(49, 0, 5.0)))
    assert analyse(both, figures, gate=GATE, step="1-canary") == (
        "too few requests to judge catalog: on products catalog served 49; on product catalog "
        "served 3 in the last 5 min at 1-canary, fewer than 50 on each side of at least one "
        "split route (gates.canary.min_requests)",
    )


def test_a_5xx_rate_beyond_the_primarys_plus_the_allowed_increase_refuses():
    assert reasons(traffic(catalog=(100, 2, 5.0), monolith=(1000, 10, 5.0))) == ()  # +1 point
    assert reasons(traffic(catalog=(100, 3, 5.0), monolith=(1000, 10, 5.0))) == (
        "catalog's 5xx rate on products is 3.0%, more than monolith's 1.0% + 1 points "
        "(gates.canary.max_error_rate_increase)",
    )


def test_a_p99_beyond_the_ratio_refuses_and_p99s_under_the_floor_count_as_the_floor():
    assert reasons(traffic(catalog=(100, 0, 30.0), monolith=(900, 0, 20.0))) == ()  # 1.5 times
    assert reasons(traffic(catalog=(100, 0, 412.0), monolith=(900, 0, 180.0))) == (
        "catalog's p99 on products is 412 ms, more than 1.5 times monolith's 180 ms",
    )
    # 4 ms against 2 ms is noise: both count as 10 ms.
    assert reasons(traffic(catalog=(100, 0, 4.0), monolith=(900, 0, 2.0))) == ()
    assert reasons(traffic(catalog=(100, 0, 16.0), monolith=(900, 0, 2.0))) == (
        "catalog's p99 on products is 16 ms, more than 1.5 times monolith's 2 ms "
        "(counted as 10 ms: gates.canary.p99_floor_ms)",
    )


def test_the_summary_is_one_line_with_the_first_reason_and_how_many_more():
    def analysis(*found: str) -> Analysis:
        return Analysis(step="1", target="2", minutes=5.0, promotions=PRODUCTS, reasons=found)

    assert analysis().passed and analysis().summary() == "passes"
    assert analysis("a").summary() == "a"
    assert analysis("a", "b").summary() == "a (and 1 more problem)"
    assert analysis("a", "b", "c").summary() == "a (and 2 more problems)"


# -- the figures --------------------------------------------------------------------------------


def read(split: str, backend: str, code: int = 200, *, step: str = "1-canary") -> dict:
    return {"route": "products", "split": split, "backend": backend, "code": code, "step": step}


def test_split_figures_are_per_chosen_backend_and_count_what_the_fallback_answered():
    figures = summarise_split(
        exposition(
            [
                read("catalog", "catalog"),
                read("catalog", "catalog", 503),  # answered by the catalog, a 5xx
                read("catalog", "monolith"),  # the fallback answered for the catalog
                read("monolith", "monolith"),
                read("monolith", "monolith", 500),
                read("", "monolith"),  # a write: never split
                read("catalog", "catalog", step="0-monolith"),  # another step's traffic
            ]
        ),
        step="1-canary",
    )
    # Every read took 4 ms: the 99th percentile interpolated in the (0, 5 ms] bucket.
    assert figures == {
        ("products", "catalog"): Traffic(requests=3, errors=2, p99_ms=pytest.approx(4.95)),
        ("products", "monolith"): Traffic(requests=2, errors=1, p99_ms=pytest.approx(4.95)),
    }


# -- gates.canary in the plan -------------------------------------------------------------------


def test_the_gate_has_defaults_and_the_shop_plan_sets_its_own(shop_plan):
    defaults = parse_plan(PLAN, file="plan.yaml", env={}).gates.canary
    assert defaults == GATE
    # The shop's own values, sized for its real traffic; the tests of the analysis' mechanics
    # state theirs (GATE here, test_canary.GATE on real nginx).
    assert shop_plan.gates.canary == CanaryGate(
        max_error_rate_increase=0.01,
        max_p99_ratio=1.5,
        p99_floor_ms=250.0,
        min_requests=1,
        window_minutes=15.0,
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("max_p99_ratio: 0.5", "gates.canary.max_p99_ratio: Input should be greater than or"),
        ("max_error_rate_increase: 2", "gates.canary.max_error_rate_increase: Input should be"),
        ("min_requests: 0", "gates.canary.min_requests: Input should be greater than or equal"),
        ("window_minutes: 0", "gates.canary.window_minutes: Input should be greater than 0"),
        ("p99_floor_ms: fast", "gates.canary.p99_floor_ms: Input should be a valid number"),
        ("max_p99: 2", "gates.canary.max_p99: unknown key"),
    ],
)
def test_a_bad_gate_setting_is_an_error_naming_file_and_key(setting, message):
    with pytest.raises(PlanError) as caught:
        parse_plan(f"{PLAN}gates:\n  canary: {{{setting}}}\n", file="plan.yaml", env={})
    assert str(caught.value).startswith(f"plan.yaml: {message}")
