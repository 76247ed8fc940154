import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .exceptions import json_error
from .request_context import REQUEST_ID_HEADER, accept_or_create_request_id, current_request_id

access_log = logging.getLogger("shop.access")


class RequestIdMiddleware:
    """Echoes or creates X-Request-ID, binds it to the logs, and writes one access log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accept_or_create_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            current_request_id.reset(token)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit with a JSON 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error("Invalid Content-Length header.", status=400)
        if length > settings.MAX_REQUEST_BODY_BYTES:
            limit_kib = settings.MAX_REQUEST_BODY_BYTES // 1024
            return json_error(f"Request body too large (limit {limit_kib} KiB).", status=413)
        return self.get_response(request)
