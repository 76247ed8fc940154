"""The orders domain's internal API: marking an order paid, for the payments of a backend that
does not own the orders (the monolith's payments.order_port). Reached through the proxy's
internal listener, which routes it to the orders' owner at the current step; a request meeting a
handover waits it out or is forwarded to the new owner (owned_write)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from strangler.service.errors import ConflictError
from strangler.service.internal_api import InternalAPIView
from strangler.sync.ownership import owned_write

from . import services
from .apps import DOMAIN
from .internal_serializers import OrderPaidSerializer, OrderPaymentSerializer


@extend_schema(exclude=True)
class OrderPaymentView(InternalAPIView):
    @owned_write(DOMAIN)
    def put(self, request, order_id: int):
        """Idempotent on the payment: the same payment replayed answers 200 again."""
        params = OrderPaymentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        payment_id = params.validated_data["payment_id"]
        if not services.mark_order_paid(
            order_id=order_id, payment_id=payment_id, paid_at=params.validated_data["paid_at"]
        ):
            raise ConflictError(
                "This order cannot be paid (gone, cancelled or paid by another payment).",
                code="not_payable",
            )
        paid = {"order_id": order_id, "status": "paid", "payment_id": payment_id}
        return Response(OrderPaidSerializer(paid).data)
