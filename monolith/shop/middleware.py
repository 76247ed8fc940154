from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .exceptions import json_error


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
