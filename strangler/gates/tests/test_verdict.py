"""The can-flip verdict: each gate failing alone is the one reason, one line, "gate: detail"."""

import pytest

from strangler.gates import canary, contract, lag
from strangler.gates.move import Direction, Facts, Move, direction_of
from strangler.gates.verdict import Verdicts, judge_move
from strangler.plan import load_plan
from strangler.proxy.health import Health
from strangler.proxy.site import Site
from strangler.proxy.state import State, save_state
from strangler.proxy.verify import Verdict as SuiteOutcome
from tests.migration.harness import REPO_ROOT, SHOP_PLAN, free_port, shop_plan_gated

SHADOW, CANARY, FULL = "2-catalog-shadow", "3-catalog-canary", "4-catalog"


@pytest.fixture
def plan():
    return load_plan(SHOP_PLAN, env={})


@pytest.fixture
def strict_plan(tmp_path):
    """The shop's plan, its steps left only after the contract suite passed at them."""
    return load_plan(shop_plan_gated(tmp_path, contract={"required": True}), env={})


@pytest.fixture
def site(tmp_path):
    # Nothing listens on the proxy's internal port: the shadow log cannot be read.
    return Site.from_env(
        {
            "STRANGLER_ROOT": str(REPO_ROOT),
            "STRANGLER_VAR_DIR": str(tmp_path / "var"),
            "PROXY_INTERNAL_PORT": str(free_port()),
        }
    )


def facts(site, plan, *, down=(), pending=0, oldest=0.0):
    """What the running system answers, as the gates read it (every backend healthy, every
    outbox drained, unless said otherwise)."""
    known = Facts(site, plan)
    for name, backend in plan.backends.items():
        ok = name not in down
        known._health[name] = [
            Health(name, url, ok, "200" if ok else "503") for url in backend.health_urls
        ]
    known.__dict__["sync_lag"] = {
        name: {"backend": name, "pending": pending, "oldest_seconds": oldest, "error": None}
        for name in plan.backends
    }
    return known


def move(site, plan, current, target, known, *, rollback=False):
    now, then = plan.step(current), plan.step(target)
    return Move(
        plan=plan,
        current=now,
        target=then,
        direction=direction_of(now, then, rollback=rollback),
        site=site,
        facts=known,
    )


def verified(site, step, *, ok=True, table="t1"):
    state = State(step=step, table_hash=table)
    save_state(site.state_path, state)
    outcome = SuiteOutcome(ok=ok, summary="325 passed" if ok else "1 failed", first_failure=None)
    contract.record(site, state=state, outcome=outcome, base_url="http://proxy")
    return state


def test_a_move_goes_forward_back_or_nowhere(plan):
    one, four = plan.step("1-auth"), plan.step(FULL)
    assert direction_of(one, four, rollback=False) == Direction.FORWARD
    assert direction_of(four, one, rollback=False) == Direction.BACK
    assert direction_of(four, one, rollback=True) == Direction.BACK
    assert direction_of(four, four, rollback=False) == Direction.NOWHERE


def test_a_rollback_to_a_healthy_step_can_flip_on_health_alone(site, plan):
    verdict = judge_move(move(site, plan, CANARY, SHADOW, facts(site, plan), rollback=True))
    assert verdict.can_flip and verdict.reasons == []
    assert {check.gate for check in verdict.checks} == {"health"}
    assert verdict.refusal() is None


def test_an_unhealthy_backend_alone_refuses(site, plan):
    verdict = judge_move(move(site, plan, CANARY, SHADOW, facts(site, plan, down=("catalog",))))
    assert not verdict.can_flip
    assert verdict.reasons == ["health: catalog at http://127.0.0.1:8002/readyz: 503"]
    assert verdict.refusal() == (
        f"{SHADOW} cannot flip, nothing was changed: "
        "health: catalog at http://127.0.0.1:8002/readyz: 503"
    )


def test_leaving_a_shadow_step_is_judged_on_every_forward_gate(site, plan):
    verified(site, SHADOW)
    verdict = judge_move(move(site, plan, SHADOW, CANARY, facts(site, plan)))
    # Healthy, drained, verified: only the shadow report, which the proxy must give, is missing.
    passed = ["health", "sync-lag", "sync-lag", "sync-lag", "contract"]
    assert [c.gate for c in verdict.checks if c.ok] == passed
    (reason,) = verdict.reasons
    assert reason.startswith("shadow: could not be judged: ")
    assert verdict.as_json() == {
        "step": CANARY,
        "can_flip": False,
        "reasons": [reason],
        "direction": "forward",
        "checks": [check.as_json() for check in verdict.checks],
    }


def test_an_outbox_over_the_plans_limits_alone_refuses(site, plan):
    over = move(site, plan, CANARY, FULL, facts(site, plan, pending=1001))
    assert {c.detail for c in lag.check(over) if not c.ok} == {
        f"{name} has 1001 unsent events, more than 1000 (gates.sync.max_pending): "
        "is its relay running?"
        for name in ("monolith", "auth", "catalog")
    }
    old = move(site, plan, CANARY, FULL, facts(site, plan, oldest=31.0))
    assert [c.ok for c in lag.check(old)] == [False, False, False]
    assert all(c.ok for c in lag.check(move(site, plan, CANARY, FULL, facts(site, plan))))


def test_a_canary_whose_traffic_cannot_be_read_alone_refuses(site, plan):
    (check,) = canary.check(move(site, plan, CANARY, FULL, facts(site, plan)))
    assert (check.gate, check.ok) == ("canary", False)
    assert check.detail.startswith("the proxy's metrics did not answer at http://127.0.0.1:")


@pytest.mark.parametrize(
    ("recorded", "detail"),
    [
        (None, "no step is recorded yet: `strangle up`, then `strangle verify`"),
        ("nothing", f"the contract suite never ran at {CANARY}: `strangle verify`"),
        ("failed", f"FAILED at {CANARY} ("),
        ("other table", f"the contract suite last ran at {CANARY} on another route table ("),
    ],
)
def test_a_contract_suite_not_passed_at_the_current_step_alone_refuses_when_required(
    site, strict_plan, recorded, detail
):
    plan = strict_plan
    if recorded == "nothing":
        save_state(site.state_path, State(step=CANARY, table_hash="t1"))
    elif recorded == "failed":
        verified(site, CANARY, ok=False)
    elif recorded == "other table":
        verified(site, CANARY)
        save_state(site.state_path, State(step=CANARY, table_hash="t2"))
    (check,) = contract.check(move(site, plan, CANARY, FULL, facts(site, plan)))
    assert not check.ok and check.detail.startswith(detail), check.detail


def test_a_pass_at_the_current_step_counts(site, strict_plan):
    verified(site, SHADOW, ok=False)
    verified(site, CANARY)
    (check,) = contract.check(move(site, strict_plan, CANARY, FULL, facts(site, strict_plan)))
    assert check.ok and check.detail.startswith(f"passed at {CANARY} (")
    assert set(contract.results(site)) == {SHADOW, CANARY}


def test_unrequired_a_suite_never_run_holds_nothing_but_a_failed_run_still_refuses(site, plan):
    save_state(site.state_path, State(step=CANARY, table_hash="t1"))
    (never,) = contract.check(move(site, plan, CANARY, FULL, facts(site, plan)))
    assert never.ok and never.detail.endswith("(not required: gates.contract.required is false)")

    verified(site, CANARY, ok=False)
    (failed,) = contract.check(move(site, plan, CANARY, FULL, facts(site, plan)))
    assert not failed.ok and failed.detail.startswith(f"FAILED at {CANARY} (")


def test_the_controllers_gate_judges_a_fresh_install_from_the_plans_first_step(site, plan):
    verdict = Verdicts(site, only=("health",)).verdict(
        plan=plan, current=None, target=plan.step("0-monolith"), facts=facts(site, plan)
    )
    assert verdict.direction == Direction.NOWHERE and verdict.can_flip
