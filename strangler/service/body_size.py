"""A request body limit enforced before anything reads the body."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .errors import json_error

DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024


class BodySizeLimitMiddleware:
    """Refuses bodies over settings.MAX_REQUEST_BODY_BYTES (1 MiB by default) with a JSON 413.

    Goes right after RequestIdMiddleware, so that even a refusal carries the request id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = getattr(settings, "MAX_REQUEST_BODY_BYTES", DEFAULT_MAX_REQUEST_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error("Invalid Content-Length header.", status=400)
        if length > limit:
            return json_error(f"Request body too large (limit {limit // 1024} KiB).", status=413)
        return self.get_response(request)
