import json
from dataclasses import replace
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strangler.plan import ShadowGateSettings, load_plan
from strangler.shadow.compare import Answer
from strangler.shadow.errors import ShadowError
from strangler.shadow.fields import STATUS
from strangler.shadow.report import Entry, route_report, step_report
from tests.migration.harness import SHOP_PLAN

from .strategies import json_equal, pairs

SETTINGS = ShadowGateSettings(max_differing_rate=0.1, min_compared=3, noise_min_share=0.5)
# The step reports' thresholds, not the shop plan's own (sized for its real traffic).
STEP_SETTINGS = ShadowGateSettings(max_differing_rate=0.01, min_compared=10, noise_min_share=0.1)
_ids = count()


MISSING = object()  # an answer the log does not hold
SAME = object()  # the secondary answer: the primary's again


def entry(primary, shadow, secondary=SAME, *, route="products", status=200, shadow_status=200):
    """An entry of the shadow log with these JSON bodies."""
    n = next(_ids)
    secondary = primary if secondary is SAME else secondary

    def logged(value, backend, code):
        if value is MISSING:
            return None
        return Answer(backend=backend, status=code, body=json.dumps(value), time=float(n))

    return Entry(
        request_id=f"r{n}",
        route=route,
        method="GET",
        uri=f"/api/{route}?page={n}",
        primary=logged(primary, "monolith", status),
        shadow=logged(shadow, "catalog", shadow_status),
        secondary=logged(secondary, "monolith", status),
    )


def test_a_field_the_primary_answers_differently_every_time_is_noise_for_the_route():
    entries = [
        entry({"id": 1, "at": f"t{n}"}, {"id": 1, "at": f"s{n}"}, {"id": 1, "at": f"u{n}"})
        for n in range(4)
    ]
    report = route_report("products", entries, settings=SETTINGS)
    assert (report.compared, report.differing, report.fields) == (4, 0, ())
    assert [(n.field, n.noisy, n.seen) for n in report.noise] == [("at", 4, 4)]
    assert report.passed


def test_a_field_noisy_in_one_entry_is_left_out_there_and_compared_elsewhere():
    entries = [entry({"stock": 5}, {"stock": 4}, {"stock": 4})] + [
        entry({"stock": 5}, {"stock": 4}) for _ in range(3)
    ]
    report = route_report("products", entries, settings=SETTINGS)
    assert report.noise == ()
    assert report.differing == 3
    assert report.fields[0].field == "stock" and report.fields[0].differing == 3


def test_noise_is_learned_where_the_field_appears_not_over_every_entry():
    with_field = [
        entry({"items": [{"at": f"t{n}"}]}, {"items": [{"at": "x"}]}, {"items": [{"at": "y"}]})
        for n in range(2)
    ]
    without = [entry({"items": []}, {"items": []}) for _ in range(6)]
    report = route_report("products", with_field + without, settings=SETTINGS)
    assert [(n.field, n.noisy, n.seen) for n in report.noise] == [("items[].at", 2, 2)]
    assert report.differing == 0


def test_a_real_difference_is_counted_with_its_field_and_the_first_example():
    entries = [entry({"price": "1.00", "id": n}, {"price": "1.0", "id": n}) for n in range(5)]
    report = route_report("products", entries, settings=SETTINGS)
    assert (report.compared, report.differing, report.differing_rate) == (5, 5, 1.0)
    (field,) = report.fields
    assert field.field == "price" and field.differing == 5
    assert field.example.request_id == entries[0].request_id
    assert (field.example.path, field.example.primary, field.example.shadow) == (
        "price",
        "1.00",
        "1.0",
    )
    assert not report.passed
    assert report.reason == "5 of 5 differ (100.0%, over 10.0%, most in price)"


def test_fields_are_listed_most_often_differing_first():
    entries = [entry({"a": 1, "b": 1}, {"a": 2, "b": 2})] + [
        entry({"a": 1, "b": 1}, {"a": 1, "b": 2}) for _ in range(2)
    ]
    report = route_report("products", entries, settings=SETTINGS)
    assert [(f.field, f.differing) for f in report.fields] == [("b", 3), ("a", 1)]


def test_a_differing_status_counts_as_the_field_status_and_is_never_learned_as_noise():
    flaky = [
        entry({"id": 1}, {"detail": "boom"}, {"detail": "down"}, shadow_status=500)
        for _ in range(3)
    ]
    # The primary's second call answered 503: status is noise in those entries only.
    flaky = [replace(item, secondary=replace(item.secondary, status=503)) for item in flaky]
    steady = [entry({"id": 1}, {"detail": "boom"}, shadow_status=500) for _ in range(3)]
    report = route_report("products", flaky + steady, settings=SETTINGS)
    assert report.noise == ()
    assert report.differing == 3
    assert report.fields[0].field == STATUS
    assert (report.fields[0].example.primary, report.fields[0].example.shadow) == (200, 500)


def test_the_plans_ignore_rules_leave_out_a_field_and_what_lies_under_it():
    settings = replace(SETTINGS, ignore={"products": ("results[].category", "updated_at")})
    entries = [
        entry(
            {"updated_at": "a", "results": [{"category": {"slug": "x"}, "id": 1}]},
            {"results": [{"category": {"slug": "y"}, "id": 1}]},
        )
        for _ in range(3)
    ]
    report = route_report("products", entries, settings=settings)
    assert (report.differing, report.ignored) == (0, ("results[].category", "updated_at"))
    assert report.passed


def test_answers_not_all_logged_or_cut_at_the_limit_are_not_compared():
    cut = entry({"id": 1}, {"id": 2})
    cut = replace(cut, shadow=replace(cut.shadow, truncated=True))
    report = route_report(
        "products",
        [entry({"id": 1}, MISSING), entry(MISSING, {"id": 1}), cut, entry({"id": 1}, {"id": 1})],
        settings=SETTINGS,
    )
    assert (report.compared, report.incomplete, report.truncated) == (1, 2, 1)
    # Too few to judge the route alone: the report judges it with the others' answers.
    assert report.passed
    assert report.reason == (
        "only 1 compared, fewer than 3: not judged "
        "(1 too large to compare: raise proxy.shadow_body_limit)"
    )


def test_a_route_with_fewer_than_min_compared_is_not_judged_unless_an_answer_differs():
    same = [entry({"id": 1}, {"id": 1}) for _ in range(2)]
    report = route_report("products", same, settings=SETTINGS)
    assert (report.compared, report.passed) == (2, True)
    assert report.reason == "only 2 compared, fewer than 3: not judged"
    report = route_report("products", [same[0], entry({"id": 1}, {"id": 2})], settings=SETTINGS)
    assert (report.compared, report.differing, report.passed) == (2, 1, False)
    assert report.reason == "1 of 2 differ (50.0%, over 10.0%, most in id)"


def test_an_entry_without_the_primarys_second_answer_is_compared_without_its_noise():
    failed = entry({"id": 1, "at": "t"}, {"id": 1, "at": "s"})
    failed = replace(failed, secondary=replace(failed.secondary, status=None, error="x"))
    report = route_report("products", [failed], settings=replace(SETTINGS, min_compared=1))
    assert (report.compared, report.without_secondary, report.differing) == (1, 1, 1)


def test_a_rate_at_the_threshold_passes_and_one_over_it_fails():
    same = [entry({"id": 1}, {"id": 1}) for _ in range(9)]
    report = route_report("products", [*same, entry({"id": 1}, {"id": 2})], settings=SETTINGS)
    assert (report.differing_rate, report.passed) == (0.1, True)
    report = route_report("products", [*same[:8], entry({"id": 1}, {"id": 2})], settings=SETTINGS)
    assert report.passed is False


@given(st.lists(pairs(), max_size=8))
def test_without_noise_an_entry_differs_exactly_when_the_shadows_answer_does(bodies):
    entries = [entry(left, right) for left, right in bodies]
    report = route_report("products", entries, settings=SETTINGS)
    assert report.noise == ()
    assert report.compared == len(entries)
    assert report.differing == sum(not json_equal(left, right) for left, right in bodies)
    assert max((f.differing for f in report.fields), default=0) <= report.differing


@pytest.fixture(scope="module")
def shop_steps():
    """The shop plan's steps, gated by STEP_SETTINGS rather than its own gates.shadow."""
    plan = load_plan(SHOP_PLAN, env={})
    return replace(plan, gates=replace(plan.gates, shadow=STEP_SETTINGS))


def test_a_step_report_covers_every_route_the_step_shadows_and_only_its_entries(shop_steps):
    step = shop_steps.step("2-catalog-shadow")
    entries = [entry({"id": 1}, {"id": 1}, route="products") for _ in range(25)]
    # Mirrored to another shadow (left from an earlier step): counted, it would fail products
    # on its rate (1 of 26 differing, over 1%).
    stray = entry({"id": 1}, {"id": 2}, route="products")
    stray = replace(stray, shadow=replace(stray.shadow, backend="orders"))
    report = step_report(shop_steps, step, [*entries, stray, entry({}, {}, route="cart")])
    assert [r.route for r in report.routes] == ["categories", "products", "product"]
    products = report.routes[1]
    assert (products.compared, products.differing, products.passed) == (25, 0, True)
    assert [(r.compared, r.passed, r.reason) for r in report.routes[::2]] == [
        (0, True, "only 0 compared, fewer than 10: not judged")
    ] * 2
    assert (report.compared, report.passed) == (25, True)
    assert report.verdict() == "the shadow report of step 2-catalog-shadow passes"
    only = step_report(shop_steps, step, entries, routes=["products"])
    assert [r.route for r in only.routes] == ["products"]
    assert only.passed
    assert only.verdict() == "the shadow report of step 2-catalog-shadow passes"


def test_a_report_with_enough_answers_in_all_passes_though_a_route_has_fewer(shop_steps):
    # STEP_SETTINGS ask 10 answers compared in all, at most 1% of a route's answers differing.
    step = shop_steps.step("2-catalog-shadow")
    entries = [
        *(entry({"id": 1}, {"id": 1}, route="products") for _ in range(7)),
        *(entry({"id": 1}, {"id": 1}, route="product") for _ in range(3)),
    ]
    report = step_report(shop_steps, step, entries)
    assert [(r.route, r.compared, r.passed) for r in report.routes] == [
        ("categories", 0, True),
        ("products", 7, True),
        ("product", 3, True),
    ]
    assert (report.compared, report.passed) == (10, True)
    assert report.verdict() == "the shadow report of step 2-catalog-shadow passes"
    # A route with too few answers to be judged alone still fails on those that differ.
    differing = entry({"id": 1}, {"id": 2}, route="categories")
    report = step_report(shop_steps, step, [*entries, differing])
    assert not report.passed
    assert report.verdict() == (
        "the shadow report of step 2-catalog-shadow fails: "
        "categories: 1 of 1 differ (100.0%, over 1.0%, most in id)"
    )


def test_a_report_with_fewer_answers_in_all_than_min_compared_fails_naming_the_total(
    shop_steps,
):
    step = shop_steps.step("2-catalog-shadow")
    entries = [
        *(entry({"id": 1}, {"id": 1}, route="products") for _ in range(5)),
        *(entry({"id": 1}, {"id": 1}, route="categories") for _ in range(3)),
        entry({"id": 1}, {"id": 2}, route="product"),
    ]
    report = step_report(shop_steps, step, entries)
    assert [r.passed for r in report.routes] == [True, True, False]
    assert (report.compared, report.passed) == (9, False)
    assert report.verdict() == (
        "the shadow report of step 2-catalog-shadow fails: only 9 answers compared in all, "
        "fewer than 10 (gates.shadow.min_compared); product: 1 of 1 differ (100.0%, over "
        "1.0%, most in id)"
    )
    nothing = step_report(shop_steps, step, [])
    assert (nothing.compared, nothing.passed) == (0, False)
    assert nothing.verdict() == (
        "the shadow report of step 2-catalog-shadow fails: only 0 answers compared in all, "
        "fewer than 10 (gates.shadow.min_compared)"
    )


def test_a_report_of_a_step_or_route_without_a_shadow_is_refused(shop_steps):
    with pytest.raises(ShadowError, match="step 1-auth shadows no route"):
        step_report(shop_steps, shop_steps.step("1-auth"), [])
    with pytest.raises(ShadowError, match=r"does not shadow cart \(it shadows categories"):
        step_report(shop_steps, shop_steps.step("2-catalog-shadow"), [], routes=["cart"])


def test_an_entry_is_read_from_the_proxys_log_whatever_side_is_missing():
    raw = {
        "request_id": "abc",
        "primary": None,
        "shadow": {
            "backend": "catalog",
            "route": "product",
            "method": "GET",
            "uri": "/x",
            "status": 200,
            "body": "{}",
            "truncated": False,
            "time": "1.0",
        },
        "secondary": None,
    }
    parsed = Entry.from_log(raw)
    assert (parsed.route, parsed.method, parsed.uri) == ("product", "GET", "/x")
    assert parsed.primary is None and parsed.shadow.backend == "catalog"
