"""Which two backends `strangle backfill` and `strangle parity` compare: the owner and the
backend the domain moves to (or from), or a backend the plan gives a read copy of it."""

import pytest

from strangler.conf import strangler_settings
from strangler.sync.cli import domain_pair
from strangler.sync.client import SyncError


def _step(step_id: str):
    return next(step for step in strangler_settings.plan.steps if step.id == step_id)


def _names(pair) -> tuple[str, str]:
    return pair.owner.name, pair.copy.name


def test_a_domain_is_compared_between_its_owner_and_the_backend_it_moves_to_or_from():
    plan = strangler_settings.plan

    assert _names(domain_pair(plan, domain="orders", step=_step("4-catalog"))) == (
        "monolith",
        "orders",
    )
    assert _names(domain_pair(plan, domain="orders", step=_step("5-orders"))) == (
        "orders",
        "monolith",
    )


def test_a_read_copy_the_plan_gives_a_backend_is_compared_with_the_domains_owner():
    plan = strangler_settings.plan

    pair = domain_pair(plan, domain="catalog", step=_step("4-catalog"), copy="orders")

    assert _names(pair) == ("catalog", "orders")
    assert _names(domain_pair(plan, domain="auth", step=_step("0-monolith"), copy="orders")) == (
        "monolith",
        "orders",
    )


@pytest.mark.parametrize(
    ("domain", "copy", "refusal"),
    [
        ("orders", "auth", "'auth' keeps no copy of domain 'orders'"),
        ("catalog", "nowhere", "'nowhere' keeps no copy of domain 'catalog'"),
        ("catalog", "catalog", "catalog owns catalog at this step"),
    ],
)
def test_a_backend_without_a_copy_or_the_owner_itself_is_refused(domain, copy, refusal):
    with pytest.raises(SyncError, match=refusal):
        domain_pair(strangler_settings.plan, domain=domain, step=_step("4-catalog"), copy=copy)
