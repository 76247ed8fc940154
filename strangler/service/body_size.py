"""A request body limit enforced before anything reads the body."""

import io

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .errors import json_error

DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024
INTERNAL_PREFIX = "/internal/"
INTERNAL_LIMIT = 16 * 1024 * 1024
DISCARD_LIMIT = 16 * 1024 * 1024


class BodySizeLimitMiddleware:
    """Refuses bodies over settings.MAX_REQUEST_BODY_BYTES (1 MiB by default) with a JSON 413.

    Goes right after RequestIdMiddleware, so that even a refusal carries the request id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = getattr(settings, "MAX_REQUEST_BODY_BYTES", DEFAULT_MAX_REQUEST_BODY_BYTES)
        if request.path.startswith(INTERNAL_PREFIX):
            # Service-to-service calls (a backfill's pages) are bigger than any client's.
            limit = getattr(settings, "MAX_INTERNAL_REQUEST_BODY_BYTES", INTERNAL_LIMIT)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error("Invalid Content-Length header.", status=400)
        if length > limit:
            _discard(request, length)
            return _too_large(limit)
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # No Content-Length: Django would read an empty body. The server (gunicorn) decodes
            # the chunks; read them here, up to the limit, and hand the body on as if sized.
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit)
            request.META["CONTENT_LENGTH"] = str(len(body))
            request._stream = io.BytesIO(body)
        return self.get_response(request)


def _discard(request: HttpRequest, length: int) -> None:
    """Reads (and drops) a refused body of moderate size: a server that answers while the
    client is still sending closes the connection under it, and the client sees a reset
    instead of the 413. Beyond DISCARD_LIMIT the connection is not worth keeping."""
    if length > DISCARD_LIMIT:
        return
    stream = request.META.get("wsgi.input")
    remaining = length
    while stream is not None and remaining > 0:
        chunk = stream.read(min(remaining, 64 * 1024))
        if not chunk:
            break
        remaining -= len(chunk)


def _too_large(limit: int) -> HttpResponse:
    return json_error(f"Request body too large (limit {limit // 1024} KiB).", status=413)
