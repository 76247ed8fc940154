"""The list pagination every backend serves: DRF's page numbers, with page_size validated."""

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageSizeSerializer(serializers.Serializer):
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)


class StrictPageNumberPagination(PageNumberPagination):
    """DRF's page-number pagination, except that a page_size outside 1..100 is a 400.

    DRF would silently clamp or ignore it; clients of every backend must see the same 400.
    """

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        params = PageSizeSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data.get("page_size", self.page_size)
