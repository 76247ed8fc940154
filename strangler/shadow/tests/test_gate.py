import pytest

from strangler.plan import load_plan
from strangler.shadow.gate import gated_routes
from tests.migration.harness import SHOP_PLAN

CATALOG_READS = ("categories", "products", "product")


@pytest.fixture(scope="module")
def plan():
    return load_plan(SHOP_PLAN, env={})


@pytest.mark.parametrize(
    ("current", "target", "gated"),
    [
        ("2-catalog-shadow", "3-catalog-canary", CATALOG_READS),  # split
        ("2-catalog-shadow", "4-catalog", CATALOG_READS),  # moved
        ("2-catalog-shadow", "1-auth", ()),  # a rollback keeps the primary
        ("1-auth", "2-catalog-shadow", ()),  # nothing shadowed yet
        ("3-catalog-canary", "2-catalog-shadow", ()),
        ("1-auth", "4-catalog", ()),
    ],
)
def test_only_a_step_moving_or_splitting_a_shadowed_route_is_gated(plan, current, target, gated):
    assert gated_routes(plan.step(current), plan.step(target)) == gated
