from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from strangler.sync.ownership import owned_write

from . import selectors, services
from .apps import DOMAIN
from .permissions import IsStaffOrReadOnly
from .serializers import CategorySerializer, ProductFilterSerializer, ProductSerializer


class CategoryListView(generics.ListAPIView):
    serializer_class = CategorySerializer

    def get_queryset(self):
        return selectors.list_categories()


class ProductListView(generics.ListAPIView):
    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrReadOnly]

    def get_queryset(self):
        filters = ProductFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.list_products(**filters.validated_data)

    @extend_schema(parameters=[ProductFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ProductSerializer, responses={201: ProductSerializer})
    @owned_write(DOMAIN)
    def post(self, request):
        params = ProductSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        product = services.create_product(**params.validated_data)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailView(APIView):
    permission_classes = [IsStaffOrReadOnly]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def _product(self, product_id: int):
        product = selectors.get_product(product_id=product_id)
        if product is None:
            raise Http404
        return product

    @extend_schema(responses={200: ProductSerializer})
    def get(self, request, product_id: int):
        return Response(ProductSerializer(self._product(product_id)).data)

    @extend_schema(request=ProductSerializer(partial=True), responses={200: ProductSerializer})
    @owned_write(DOMAIN)
    def patch(self, request, product_id: int):
        product = self._product(product_id)
        params = ProductSerializer(product, data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        product = services.update_product(product=product, changes=params.validated_data)
        return Response(ProductSerializer(product).data)

    @extend_schema(responses={204: None})
    @owned_write(DOMAIN)
    def delete(self, request, product_id: int):
        services.delete_product(product=self._product(product_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
