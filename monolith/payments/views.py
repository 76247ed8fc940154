from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from strangler.service.errors import (
    ConflictError,
    DependencyUnavailableError,
    PaymentRequiredError,
)

from . import services
from .gateways import Card
from .serializers import PaymentRequestSerializer, PaymentResultSerializer


class PayOrderView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PaymentRequestSerializer, responses={200: PaymentResultSerializer})
    def post(self, request, order_id: int):
        params = PaymentRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        card = Card(
            number=params.validated_data["card_number"],
            exp_month=params.validated_data["exp_month"],
            exp_year=params.validated_data["exp_year"],
            cvc=params.validated_data["cvc"],
        )
        try:
            payment = services.pay_order(user=request.user, order_id=order_id, card=card)
        except services.OrderNotFound as exc:
            raise Http404 from exc
        except services.NotPayable as exc:
            raise ConflictError(
                "This order cannot be paid (already paid or cancelled).", code="not_payable"
            ) from exc
        except services.CardDeclined as exc:
            raise PaymentRequiredError("Your card was declined.", code="card_declined") from exc
        except services.OrderUnconfirmed as exc:
            raise DependencyUnavailableError(
                "The order could not be confirmed; the payment will be completed or voided."
                " Check the order before paying again.",
                code="orders_unavailable",
            ) from exc
        result = {
            "order_id": payment.order_id,
            "payment_id": payment.pk,
            "amount": payment.amount,
            "status": "paid",
        }
        return Response(PaymentResultSerializer(result).data)
