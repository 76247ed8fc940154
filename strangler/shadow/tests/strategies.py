"""Hypothesis strategies for JSON answers, shared by the shadow comparison's tests."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from strangler.shadow.compare import Answer

# Keys a real answer has, keys the report names itself, and keys that need quoting.
keys = st.sampled_from(["id", "results", "price", "status", "$", "a.b", "x[0]", 'q"t', ""]) | (
    st.text(alphabet='ab.[]0" $', max_size=3)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(alphabet="ab1", max_size=2)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=12,
)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Any, Any]:
    """Two JSON values, often equal (a copy), often close (one leaf changed), else unrelated."""
    left = draw(values)
    right = draw(st.sampled_from(["copy", "changed", "other"]))
    if right == "copy":
        return left, json.loads(json.dumps(left))
    if right == "changed":
        return left, draw(_changed(left))
    return left, draw(values)


def _changed(value: Any) -> st.SearchStrategy[Any]:
    if isinstance(value, dict) and value:
        return st.sampled_from(sorted(value)).flatmap(
            lambda key: _changed(value[key]).map(lambda new: {**value, key: new})
        )
    if isinstance(value, list) and value:
        return st.integers(0, len(value) - 1).flatmap(
            lambda i: _changed(value[i]).map(lambda new: [*value[:i], new, *value[i + 1 :]])
        )
    return scalars


def answer(value: Any, *, backend: str = "monolith", status: int = 200) -> Answer:
    return Answer(backend=backend, status=status, body=json.dumps(value))


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality, written out independently of the code under test."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return False
    return (isinstance(left, bool), left) == (isinstance(right, bool), right)
