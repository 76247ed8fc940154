from hypothesis import given

from strangler.shadow.compare import ABSENT, Answer, differences
from strangler.shadow.fields import STATUS

from .strategies import answer, json_equal, pairs, values


@given(values)
def test_an_answer_never_differs_from_itself(value):
    assert differences(answer(value), answer(value)) == {}


@given(pairs())
def test_two_answers_differ_exactly_when_their_json_differs(pair):
    left, right = pair
    assert bool(differences(answer(left), answer(right))) == (not json_equal(left, right))


def test_each_differing_field_is_reported_once_with_its_first_difference():
    primary = answer(
        {"count": 2, "results": [{"id": 1, "price": "1.00"}, {"id": 2, "price": "2.00"}]}
    )
    shadow = answer({"count": 2, "results": [{"id": 1, "price": "1.0"}, {"id": 2, "price": "2.0"}]})
    found = differences(primary, shadow)
    assert list(found) == ["results[].price"]
    first = found["results[].price"]
    assert (first.path, first.left, first.right) == ("results[0].price", "1.00", "1.0")


def test_a_field_one_side_lacks_is_a_difference_with_an_absent_value():
    found = differences(answer({"id": 1, "updated_at": "x"}), answer({"id": 1}))
    assert found["updated_at"].right is ABSENT
    found = differences(answer({"id": 1}), answer({"id": 1, "extra": None}))
    assert found["extra"].left is ABSENT and found["extra"].right is None


def test_answers_of_different_statuses_differ_in_status_alone():
    found = differences(answer({"id": 1}), answer({"detail": "Not found."}, status=404))
    assert list(found) == [STATUS]
    assert (found[STATUS].left, found[STATUS].right) == (200, 404)


def test_no_answer_is_a_status_saying_why():
    failed = Answer(backend="catalog", status=None, body="", error="connect: connection refused")
    found = differences(answer({"id": 1}), failed)
    assert found[STATUS].right == "no answer (connect: connection refused)"


def test_an_answer_from_the_log_keeps_its_fields():
    logged = {
        "backend": "catalog",
        "status": 200,
        "body": '{"id": 1}',
        "truncated": True,
        "time": "12.500",
        "route": "product",
    }
    parsed = Answer.from_log(logged)
    assert parsed == Answer(
        backend="catalog", status=200, body='{"id": 1}', truncated=True, time=12.5
    )
    assert Answer.from_log(None) is None
    assert Answer.from_log({"backend": "catalog", "status": None, "error": "x"}).status is None
