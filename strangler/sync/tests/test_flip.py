from pathlib import Path

from strangler.plan import load_plan
from strangler.sync.flip import OwnershipHandover

SHOP_PLAN = Path(__file__).resolve().parents[3] / "migration-plan" / "plan.yaml"


def _moves(current: str | None, target: str) -> list[tuple[str, str, str]]:
    plan = load_plan(SHOP_PLAN, env={})
    moves = OwnershipHandover.moves(
        plan, plan.step(current) if current else None, plan.step(target)
    )
    return [(m.domain, m.old.name, m.new.name) for m in moves]


def test_applying_the_auth_step_moves_auth_writes_from_the_monolith():
    assert _moves("0-monolith", "1-auth") == [("auth", "monolith", "auth")]


def test_rolling_back_moves_them_back():
    assert _moves("1-auth", "0-monolith") == [("auth", "auth", "monolith")]


def test_a_step_that_keeps_every_owner_moves_nothing():
    assert _moves("1-auth", "2-catalog-shadow") == []


def test_with_no_step_recorded_the_origin_is_the_owner_to_move_from():
    assert _moves(None, "1-auth") == [("auth", "monolith", "auth")]
