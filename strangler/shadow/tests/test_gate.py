import pytest

from strangler.plan import load_plan
from strangler.proxy import ProxyError
from strangler.proxy.site import Site
from strangler.shadow.gate import ShadowGate, gated_routes
from tests.migration.harness import REPO_ROOT, SHOP_PLAN, free_port

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


def test_the_gate_lets_every_flip_it_does_not_gate_through_without_asking_the_proxy(plan, tmp_path):
    nobody = Site.from_env(
        {
            "STRANGLER_ROOT": str(REPO_ROOT),
            "STRANGLER_VAR_DIR": str(tmp_path),
            "PROXY_INTERNAL_PORT": str(free_port()),
        }
    )
    gate = ShadowGate(nobody)
    with pytest.raises(ProxyError, match="cannot read the shadow log"):
        gate.before_flip(
            plan=plan, current=plan.step("2-catalog-shadow"), target=plan.step("3-catalog-canary")
        )
    gate.before_flip(plan=plan, current=None, target=plan.step("0-monolith"))
    gate.before_flip(plan=plan, current=plan.step("2-catalog-shadow"), target=plan.step("1-auth"))
