from pathlib import Path

import pytest

from strangler.plan import load_plan
from strangler.sync.client import SyncError
from strangler.sync.flip import DomainMove, OwnershipHandover, hand_over, resolve_interrupted
from strangler.sync.payloads import Behind, Fenced, Ownership, SequencesMoved
from strangler.sync.states import OwnershipState

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


class FakeBackend:
    """A backend's /internal/sync/ API as the flip sees it, in memory."""

    def __init__(self, name: str, *, owner: str = "monolith", behind: list[int] | None = None):
        self.name = name
        self.base_url = f"http://{name}"
        self.view = (owner, OwnershipState.ACTIVE)
        self.calls: list[tuple] = []
        # How many aggregates the backend still lacks, call after call (the last one sticks).
        self.behind_counts = behind if behind is not None else [0]

    def ownership(self, domain):
        return Ownership(domain=domain, owner=self.view[0], state=self.view[1])

    def set_ownership(self, domain, *, owner, state):
        self.calls.append(("set_ownership", owner, state))
        self.view = (owner, state)
        return self.ownership(domain)

    def fence(self, domain, *, owner, after):
        self.calls.append(("fence", owner, after))
        self.view = (owner, OwnershipState.HANDOVER)
        return Fenced(
            ownership=self.ownership(domain),
            watermark={"user": {"7": 3}, "refresh_token": {}},
            max_ids={"user": 41},
        )

    def behind(self, watermark):
        self.calls.append(("behind", watermark))
        count = self.behind_counts.pop(0) if len(self.behind_counts) > 1 else self.behind_counts[0]
        return Behind(behind={"user": ["7"]} if count else {}, count=count)

    def move_sequences(self, domain, *, floor, gap):
        self.calls.append(("move_sequences", floor, gap))
        return SequencesMoved(domain=domain, moved={})


def _move(old: FakeBackend, new: FakeBackend) -> DomainMove:
    return DomainMove(domain="auth", old=old, new=new)


def test_a_handover_fences_the_old_owner_waits_for_the_watermark_and_then_moves_the_writes():
    old, new = FakeBackend("monolith"), FakeBackend("auth", behind=[2, 1, 0])

    pause = hand_over(_move(old, new), after_id=10, timeout=5, id_gap=1000)

    assert pause >= 0
    assert old.calls[0] == ("fence", "monolith", 10)
    assert old.calls[-1] == ("set_ownership", "auth", "active")
    assert new.calls[0] == ("set_ownership", "monolith", "handover")
    assert [c[0] for c in new.calls[1:]] == [
        "behind",
        "behind",
        "behind",
        "move_sequences",
        "set_ownership",
    ]
    assert new.calls[1][1] == {"user": {"7": 3}, "refresh_token": {}}
    assert new.calls[-2] == ("move_sequences", {"user": 41}, 1000)
    assert (old.view, new.view) == (("auth", "active"), ("auth", "active"))


def test_a_new_owner_that_never_reaches_the_watermark_refuses_the_flip_and_the_old_keeps_it():
    old, new = FakeBackend("monolith"), FakeBackend("auth", behind=[1])

    with pytest.raises(SyncError, match=r"1 aggregates still behind \(user 7\)"):
        hand_over(_move(old, new), after_id=0, timeout=0.1, id_gap=1000)

    assert (old.view, new.view) == (("monolith", "active"), ("monolith", "active"))
    assert not [c for c in new.calls if c[0] == "move_sequences"]


@pytest.mark.parametrize(
    ("old_view", "new_view", "finished", "after"),
    [
        # Nothing happened yet: nothing to resolve.
        (("monolith", "active"), ("monolith", "active"), False, ("monolith", "monolith")),
        # Cut short while waiting for the watermark: undone, the old owner keeps the writes.
        (("monolith", "handover"), ("monolith", "handover"), False, ("monolith", "monolith")),
        # The new owner took over but the old one was not told: finished.
        (("monolith", "handover"), ("auth", "active"), True, ("auth", "auth")),
        # Already finished: left alone.
        (("auth", "active"), ("auth", "active"), True, ("auth", "auth")),
    ],
)
def test_an_interrupted_handover_is_finished_or_undone(old_view, new_view, finished, after):
    old, new = FakeBackend("monolith"), FakeBackend("auth")
    old.view, new.view = old_view, new_view

    assert resolve_interrupted(_move(old, new)) is finished

    assert (old.view[0], new.view[0]) == after
    assert old.view[1] == new.view[1] == "active"
