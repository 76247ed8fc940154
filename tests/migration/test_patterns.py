import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strangler.plan.patterns import PathPattern, by_specificity


def test_literal_pattern_matches_only_its_own_path():
    pattern = PathPattern.parse("/api/products")
    assert pattern.is_exact
    assert pattern.matches("/api/products")
    assert not pattern.matches("/api/products/")
    assert not pattern.matches("/api/products/1")


def test_parameter_matches_exactly_one_segment():
    pattern = PathPattern.parse("/api/products/{id}")
    assert pattern.matches("/api/products/17")
    assert not pattern.matches("/api/products/")
    assert not pattern.matches("/api/products/17/reviews")


def test_rest_matches_the_prefix_itself_and_anything_below():
    pattern = PathPattern.parse("/admin/**")
    assert pattern.matches("/admin")
    assert pattern.matches("/admin/")
    assert pattern.matches("/admin/catalog/product/3/change/")
    assert not pattern.matches("/administrator")


def test_dots_in_literals_are_not_wildcards():
    pattern = PathPattern.parse("/.well-known/jwks.json")
    assert pattern.matches("/.well-known/jwks.json")
    assert not pattern.matches("/.well-known/jwksXjson")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("api/products", "start with '/'"),
        ("/api//products", "empty segment"),
        ("/api/**/x", "last segment"),
        ("/api/prod ucts", "neither a literal"),
        ("/api/{Id}", "neither a literal"),
        ("/api/(.*)", "neither a literal"),
    ],
)
def test_malformed_patterns_are_rejected_with_the_reason(text, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        PathPattern.parse(text)


def test_patterns_differing_only_in_parameter_names_share_a_shape():
    assert PathPattern.parse("/a/{id}").shape == PathPattern.parse("/a/{pk}").shape
    assert PathPattern.parse("/a/{id}").shape != PathPattern.parse("/a/b").shape


def test_reviews_sort_before_product_and_product_before_everything_under_api():
    ordered = by_specificity(
        [
            PathPattern.parse("/api/**"),
            PathPattern.parse("/api/products/{id}"),
            PathPattern.parse("/api/products/{id}/reviews"),
            PathPattern.parse("/api/{x}/{id}/reviews"),
        ]
    )
    assert [p.text for p in ordered] == [
        "/api/products/{id}/reviews",
        "/api/products/{id}",
        "/api/{x}/{id}/reviews",
        "/api/**",
    ]


segment = st.text(alphabet="abcxyz0129.-", min_size=1, max_size=6)


@given(st.lists(segment, min_size=1, max_size=5), st.data())
def test_the_first_matching_pattern_by_specificity_is_never_less_specific_than_another_match(
    segments, data
):
    path = "/" + "/".join(segments)
    patterns = []
    for _ in range(data.draw(st.integers(min_value=1, max_value=5))):
        kinds = [data.draw(st.sampled_from(["literal", "param"])) for _ in segments]
        parts = [s if kind == "literal" else "{p}" for s, kind in zip(segments, kinds, strict=True)]
        cut = data.draw(st.integers(min_value=0, max_value=len(parts)))
        text = (
            "/" + "/".join([*parts[:cut], "**"])
            if data.draw(st.booleans())
            else "/" + "/".join(parts)
        )
        patterns.append(PathPattern.parse(text))
    matching = [p for p in by_specificity(patterns) if p.matches(path)]
    assert matching, "every generated pattern matches the path it was generated from"
    winner = matching[0]
    assert all(winner.specificity >= other.specificity for other in matching)
