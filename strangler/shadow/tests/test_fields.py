import re

from hypothesis import given
from hypothesis import strategies as st

from strangler.shadow.fields import ROOT, covers, flatten, parse, same

from .strategies import values

PLAIN = st.recursive(
    st.integers(0, 9),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "results", "price", "tags"]), children, max_size=3)
    ),
    max_leaves=10,
)


def test_a_list_body_flattens_into_generalised_fields_and_exact_paths():
    body = {"count": 2, "results": [{"id": 1, "tags": ["a"]}, {"id": 2, "tags": []}]}
    leaves = flatten(body)
    assert {path: (leaf.field, leaf.value) for path, leaf in leaves.items()} == {
        "count": ("count", 2),
        "results[0].id": ("results[].id", 1),
        "results[0].tags[0]": ("results[].tags[]", "a"),
        "results[1].id": ("results[].id", 2),
        "results[1].tags": ("results[].tags", []),
    }


def test_odd_keys_and_top_level_keys_named_like_the_reports_own_fields_are_quoted():
    leaves = flatten({"status": "paid", "$": 1, "a b": {"status": 2}, "x.y": [3]})
    assert list(leaves) == ['["status"]', '["$"]', '["a b"].status', '["x.y"][0]']
    assert leaves['["x.y"][0]'].field == '["x.y"][]'


def test_a_scalar_an_empty_body_and_text_sit_at_the_root():
    assert flatten(parse("7")) == {ROOT: (ROOT, 7)}
    assert flatten(parse("{}"))[ROOT].value == {}
    text = flatten(parse("Bad Gateway"))[ROOT].value
    assert text == "Bad Gateway" and not same(text, "Bad Gateway")


def test_json_equality_tells_booleans_from_numbers_but_not_ints_from_floats():
    assert same(1, 1.0)
    assert not same(True, 1)
    assert not same(0, None)
    assert not same("1", 1)
    assert not same([], {})


@given(PLAIN)
def test_a_field_is_its_path_with_list_indexes_generalised(value):
    for path, leaf in flatten(value).items():
        assert leaf.field == re.sub(r"\[[0-9]+\]", "[]", path)


@given(values)
def test_every_leaf_has_one_path_and_paths_are_unique(value):
    leaves = flatten(value)
    assert len(leaves) == _count_leaves(value)


def _count_leaves(value) -> int:
    if isinstance(value, dict) and value:
        return sum(_count_leaves(item) for item in value.values())
    if isinstance(value, list) and value:
        return sum(_count_leaves(item) for item in value)
    return 1


def test_a_rule_covers_its_field_and_what_lies_under_it_only():
    assert covers("results[].category", "results[].category")
    assert covers("results[].category", "results[].category.slug")
    assert covers("results", "results[].id")
    assert not covers("results[].category", "results[].category_id")
    assert not covers("price", "prices")
