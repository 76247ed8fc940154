"""`gates` in plan.yaml: validated strictly, every problem naming the file and the key."""

import pytest

from strangler.plan import PlanError, ShadowGateSettings, parse_plan

PLAN = """
version: 1
backends:
  monolith: {url: "http://127.0.0.1:8000", owns: [catalog]}
  catalog: {url: "http://127.0.0.1:8002", owns: [catalog]}
routes:
  - {name: products, path: /api/products, methods: [GET, HEAD], domain: catalog}
  - {name: categories, path: /api/categories, methods: [GET, HEAD], domain: catalog}
steps:
  - id: 0-monolith
    title: all monolith
  - id: 1-shadow
    title: products shadowed
    routes:
      products: {backend: monolith, shadow: catalog}
"""


def problems(gates: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(PLAN + gates, file="plan.yaml", env={})
    return [str(issue) for issue in caught.value.issues]


def test_the_shop_plan_gates_its_shadow_step_at_one_percent_of_one_answer_in_all(shop_plan):
    # The shop's own values, sized for its real traffic; the tests of the report's mechanics
    # state theirs (strangler/shadow/tests/test_report.py, test_shadow_report.py).
    assert shop_plan.gates.shadow == ShadowGateSettings(
        max_differing_rate=0.01, min_compared=1, noise_min_share=0.1
    )


def test_without_gates_the_defaults_apply():
    plan = parse_plan(PLAN, file="plan.yaml", env={})
    assert plan.gates.shadow == ShadowGateSettings()


def test_thresholds_and_ignore_rules_are_read():
    plan = parse_plan(
        PLAN
        + """
gates:
  shadow:
    max_differing_rate: 0.05
    min_compared: 100
    noise_min_share: 0.5
    ignore:
      products: ["results[].updated_at", count, "results[].updated_at"]
""",
        file="plan.yaml",
        env={},
    )
    shadow = plan.gates.shadow
    assert (shadow.max_differing_rate, shadow.min_compared, shadow.noise_min_share) == (
        0.05,
        100,
        0.5,
    )
    assert shadow.ignored("products") == ("results[].updated_at", "count")
    assert shadow.ignored("categories") == ()


def test_an_ignore_rule_for_an_unknown_or_unshadowed_route_is_refused():
    assert problems("gates: {shadow: {ignore: {prodcts: [id], categories: [id]}}}") == [
        "plan.yaml: gates.shadow.ignore.prodcts: unknown route 'prodcts'",
        "plan.yaml: gates.shadow.ignore.categories: no step shadows route 'categories'",
    ]


def test_out_of_range_values_and_unknown_keys_name_their_key():
    found = problems(
        "gates: {shadow: {max_differing_rate: 2, min_compared: -1, noise_min_share: 0, "
        "treshold: 1}, shadows: {}}"
    )
    assert found == [
        "plan.yaml: gates.shadow.max_differing_rate: Input should be less than or equal to 1",
        "plan.yaml: gates.shadow.min_compared: Input should be greater than or equal to 0",
        "plan.yaml: gates.shadow.noise_min_share: Input should be greater than 0",
        "plan.yaml: gates.shadow.treshold: unknown key",
        "plan.yaml: gates.shadows: unknown key",
    ]


def test_an_ignored_field_is_one_word():
    assert problems('gates: {shadow: {ignore: {products: ["results[]. id"]}}}') == [
        "plan.yaml: gates.shadow.ignore.products.0: String should match pattern '^\\S{1,200}$'"
    ]
