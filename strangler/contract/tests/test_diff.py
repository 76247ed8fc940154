import httpx

from strangler.contract.diff import (
    MISSING,
    Difference,
    diff_bodies,
    diff_responses,
    format_differences,
)


def _response(status, body, **headers):
    return httpx.Response(status, json=body, headers=headers)


def test_equal_bodies_have_no_differences():
    body = {"count": 1, "results": [{"id": 1, "price": "1.00"}]}

    assert diff_bodies(body, {"count": 1, "results": [{"id": 1, "price": "1.00"}]}) == []


def test_changed_value_is_reported_with_its_json_path():
    expected = {"results": [{"price": "1.00"}]}
    actual = {"results": [{"price": "1.50"}]}

    assert diff_bodies(expected, actual) == [Difference("$.results[0].price", "1.00", "1.50")]


def test_type_change_counts_as_a_difference():
    assert diff_bodies({"stock": 2}, {"stock": "2"}) == [Difference("$.stock", 2, "2")]


def test_missing_and_extra_keys_are_reported():
    differences = diff_bodies({"a": 1, "b": 2}, {"a": 1, "c": 3})

    assert differences == [Difference("$.b", 2, MISSING), Difference("$.c", MISSING, 3)]


def test_list_order_matters_because_ordering_is_part_of_the_contract():
    assert diff_bodies([1, 2], [2, 1]) != []


def test_responses_differing_only_in_volatile_parts_are_equal():
    primary = _response(
        200,
        {"next": "http://127.0.0.1:8000/api/products?page=2", "updated_at": "2024-01-01T00:00:00Z"},
        **{"X-Request-ID": "one"},
    )
    shadow = _response(
        200,
        {"next": "http://127.0.0.1:8002/api/products?page=2", "updated_at": "2024-05-01T09:00:00Z"},
        **{"X-Request-ID": "two"},
    )

    assert diff_responses(primary, shadow) == []


def test_status_and_compared_headers_are_part_of_the_diff():
    primary = _response(401, {"detail": "x"}, **{"WWW-Authenticate": "Bearer"})
    shadow = _response(403, {"detail": "x"})

    assert diff_responses(primary, shadow) == [
        Difference("status", 401, 403),
        Difference("headers.www-authenticate", "Bearer", MISSING),
    ]


def test_format_differences_lists_each_difference_and_truncates():
    differences = [Difference(f"$.a[{i}]", i, i + 1) for i in range(3)]

    assert format_differences([]) == "no differences"
    assert format_differences(differences, limit=2) == (
        "$.a[0]: expected 0, got 1\n$.a[1]: expected 1, got 2\n... and 1 more"
    )
