import pytest
from rest_framework import exceptions
from rest_framework.request import Request

from strangler.service.pagination import StrictPageNumberPagination


def _page_size(rf, query: str) -> int:
    return StrictPageNumberPagination().get_page_size(Request(rf.get(f"/?{query}")))


def test_the_default_page_size_is_twenty(rf):
    assert _page_size(rf, "") == 20


def test_a_page_size_within_bounds_is_used(rf):
    assert _page_size(rf, "page_size=100") == 100


@pytest.mark.parametrize("value", ["0", "101", "-1", "ten"])
def test_a_page_size_out_of_bounds_is_a_400_not_silently_clamped(rf, value):
    with pytest.raises(exceptions.ValidationError) as raised:
        _page_size(rf, f"page_size={value}")

    assert set(raised.value.detail) == {"page_size"}


def test_a_page_past_the_end_is_404(rf):
    paginator = StrictPageNumberPagination()

    with pytest.raises(exceptions.NotFound):
        paginator.paginate_queryset(list(range(5)), Request(rf.get("/?page=2")))
