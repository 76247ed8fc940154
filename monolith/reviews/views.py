from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from catalog.selectors import get_product
from strangler.service.errors import ConflictError

from . import selectors, services
from .serializers import ReviewSerializer


class ProductReviewsView(generics.ListAPIView):
    serializer_class = ReviewSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]

    def _product(self):
        product = get_product(product_id=self.kwargs["product_id"])
        if product is None:
            raise Http404
        return product

    def get_queryset(self):
        return selectors.list_reviews(product_id=self._product().pk)

    @extend_schema(request=ReviewSerializer, responses={201: ReviewSerializer})
    def post(self, request, product_id: int):
        product = self._product()
        params = ReviewSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            review = services.create_review(
                product=product, user=request.user, **params.validated_data
            )
        except services.AlreadyReviewed as exc:
            raise ConflictError(
                "You have already reviewed this product.", code="already_reviewed"
            ) from exc
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)
