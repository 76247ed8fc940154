"""One JSON error shape on every backend: DRF's, plus machine-readable codes and Django's own
400/404/500 pages rendered the same way.

Wire it in with REST_FRAMEWORK["EXCEPTION_HANDLER"] = "strangler.service.errors.exception_handler"
and, in the root URLconf, handler400/404/500 = "strangler.service.errors.json_bad_request" etc.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)
# What Django raises when the database cannot be reached or drops the connection.
DatabaseUnreachable = (OperationalError, InterfaceError)

# DRF's JSONRenderer output for the same dict: compact separators, UTF-8 kept as is.
_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


class ConflictError(exceptions.APIException):
    """A 409 that clients branch on: carries a machine-readable `code` and optional fields."""

    status_code: int = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"

    def __init__(self, detail: str, *, code: str, **fields: object) -> None:
        super().__init__(detail=detail, code=code)
        self.fields = {"code": code, **fields}


class BusinessRuleError(ConflictError):
    status_code = status.HTTP_400_BAD_REQUEST


class PaymentRequiredError(ConflictError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED


class DependencyUnavailableError(ConflictError):
    """A 503 with a code: another backend this request needs could not be reached; nothing
    was done, and the client may retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def exception_handler(exc, context):
    if isinstance(exc, DatabaseUnreachable):
        # A 503, not a 500: the proxy falls back for safe methods (502/503/504 only) and a
        # client may retry; the error itself is in the log, not in the answer.
        logger.warning("database unavailable: %s", exc)
        return Response(
            {"detail": "Service unavailable: its database cannot be reached; retry later."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ConflictError):
        response.data = {"detail": str(exc.detail), **exc.fields}
    if response is not None and isinstance(exc, DependencyUnavailableError):
        response["Retry-After"] = "1"  # as the proxy and a backend without its database say
    return response


def json_error(detail: str, *, status: int, headers: dict[str, str] | None = None) -> JsonResponse:
    """The framework's one error body, byte-identical to DRF's rendering of {"detail": ...}."""
    return JsonResponse(
        {"detail": detail}, status=status, headers=headers, json_dumps_params=_COMPACT
    )


def json_not_found(request, exception=None):
    return json_error("Not found.", status=404)


def json_server_error(request):
    return json_error("Internal server error.", status=500)


def json_bad_request(request, exception=None):
    return json_error("Bad request.", status=400)
