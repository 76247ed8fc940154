"""The catalog's internal API: stock reservations, for the order code of backends that do not
own the catalog (their stock port, orders.stock). Reached through the proxy's internal
listener, which routes it to the catalog's owner at the current step; a request meeting a
handover waits it out or is forwarded to the new owner (owned_write)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from strangler.service.errors import ConflictError
from strangler.service.internal_api import InternalAPIView
from strangler.sync.ownership import owned_write

from . import selectors, services
from .apps import DOMAIN
from .internal_serializers import (
    ReservationLinesSerializer,
    ReservationSerializer,
    ReservationSummarySerializer,
)


@extend_schema(exclude=True)
class ReservationView(InternalAPIView):
    @owned_write(DOMAIN)
    def put(self, request, key: str):
        params = ReservationLinesSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            reservation = services.reserve_stock(key=key, quantities=params.validated_data["lines"])
        except services.OutOfStock as exc:
            raise ConflictError(
                "Not enough stock.", code="out_of_stock", product_id=exc.product_id
            ) from None
        except services.ReservationReleased:
            raise ConflictError(
                "This reservation was released; a new attempt needs a new key.",
                code="reservation_released",
            ) from None
        return Response(ReservationSerializer(reservation).data)

    @owned_write(DOMAIN)
    def delete(self, request, key: str):
        return Response(ReservationSerializer(services.release_stock(key=key)).data)


@extend_schema(exclude=True)
class ReservationSummaryView(InternalAPIView):
    def get(self, request):
        summary = selectors.reservation_summary()
        return Response(ReservationSummarySerializer(summary).data, status=status.HTTP_200_OK)
