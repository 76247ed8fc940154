"""The checkout latency benchmark's order of phases: each flip serves two phases, and the
rounds run the steps in turn first."""

import pytest

from bench.orders_bench import parse_args, phase_order


def test_the_steps_alternate_so_that_each_flip_serves_two_phases():
    assert phase_order(3) == [
        (1, "0-monolith"),
        (1, "5-orders"),
        (2, "5-orders"),
        (2, "0-monolith"),
        (3, "0-monolith"),
        (3, "5-orders"),
    ]


def test_one_round_is_one_phase_at_each_step():
    assert phase_order(1) == [(1, "0-monolith"), (1, "5-orders")]


def test_more_customers_than_seeded_products_is_refused():
    with pytest.raises(SystemExit):
        parse_args(["--customers", "21"])
