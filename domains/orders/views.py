from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import get_product
from catalog.services import OutOfStock
from strangler.service.errors import BusinessRuleError, ConflictError, DependencyUnavailableError
from strangler.sync.ownership import owned_write

from . import selectors, services, stock
from .apps import DOMAIN
from .serializers import CartQuantitySerializer, CartSerializer, OrderSerializer


class CartView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CartSerializer})
    def get(self, request):
        return Response(CartSerializer(selectors.get_cart(user=request.user)).data)


class CartItemView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=CartQuantitySerializer, responses={200: CartSerializer})
    @owned_write(DOMAIN)
    def put(self, request, product_id: int):
        params = CartQuantitySerializer(data=request.data)
        params.is_valid(raise_exception=True)
        product = get_product(product_id=product_id)
        if product is None:
            raise Http404
        cart = services.set_cart_quantity(
            user=request.user, product=product, quantity=params.validated_data["quantity"]
        )
        return Response(CartSerializer(cart).data)

    @extend_schema(responses={200: CartSerializer})
    @owned_write(DOMAIN)
    def delete(self, request, product_id: int):
        try:
            cart = services.remove_from_cart(user=request.user, product_id=product_id)
        except services.NotInCart as exc:
            raise NotFound("This product is not in your cart.") from exc
        return Response(CartSerializer(cart).data)


class OrderListView(generics.ListAPIView):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return selectors.list_orders(user=self.request.user)

    @extend_schema(request=None, responses={201: OrderSerializer})
    @owned_write(DOMAIN)
    def post(self, request):
        try:
            order = services.checkout(user=request.user)
        except services.EmptyCart as exc:
            raise BusinessRuleError("Your cart is empty.", code="empty_cart") from exc
        except OutOfStock as exc:
            raise ConflictError(
                "Not enough stock for a product in your cart.",
                code="out_of_stock",
                product_id=exc.product_id,
            ) from exc
        except stock.CatalogUnavailable as exc:
            raise DependencyUnavailableError(
                "The catalog cannot be reached; nothing was ordered. Retry later.",
                code="catalog_unavailable",
            ) from exc
        order = selectors.get_order(user=request.user, order_id=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


def _own_order(request, order_id: int):
    order = selectors.get_order(user=request.user, order_id=order_id)
    if order is None:
        raise Http404
    return order


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OrderSerializer})
    def get(self, request, order_id: int):
        return Response(OrderSerializer(_own_order(request, order_id)).data)


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: OrderSerializer})
    @owned_write(DOMAIN)
    def post(self, request, order_id: int):
        try:
            order = services.cancel_order(order=_own_order(request, order_id))
        except services.NotCancellable as exc:
            raise ConflictError(
                "Only orders pending payment can be cancelled.", code="not_cancellable"
            ) from exc
        return Response(OrderSerializer(order).data)
