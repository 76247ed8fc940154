"""A faster read path for the domains a backend caches (`STRANGLER_READ_CACHE_DOMAINS`).

A GET of a route of such a domain (as the plan routes paths) is answered from a cache kept
under the domain's generation (strangler.sync.generations), which every change of the domain
moves in its own transaction, on the owner (a write) as on a copy (an applied event): an
answer is reused exactly as long as nothing in its domain changed, in whichever process the
change was made. Checking costs one primary-key lookup per request, and a write is visible to
the next read, wherever it lands.

Every answer it keeps or gives carries an ETag made of the generation and the request; a GET
whose If-None-Match names the current one is answered 304, without a body.

The same answer as without it. It sits right after the security middleware
(strangler.service.backend): the middleware before it (request id and access log, body size
limit, security headers) runs on every answer, kept or computed; what comes after it (sessions,
CSRF, host validation, users, messages, X-Frame-Options, Content-Length) ran when an answer was
computed, and what it added to that answer is kept with it. An answer is kept only when the
key covers everything it may vary on: a 200 that sets no cookie and varies (Vary) on nothing
but Accept. The key is the absolute URL (its scheme and host make the pagination links) and
the Accept header (DRF's JSON renderer honours `indent`). A cached domain's reads answer every
caller they accept alike (the catalog is public): credentials only decide whether there is an
answer, so a request carrying an Authorization header is authenticated first, by DRF's
authenticators as the view would, and one they refuse goes to the view, which answers its 401.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils.http import parse_etags
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from strangler.conf import strangler_settings
from strangler.plan import Plan, Route
from strangler.sync import generations

KEY_PREFIX = "strangler-read:"
# What a 304 repeats of the answer it stands for (RFC 9110, 15.4.5).
_KEPT_ON_304 = ("ETag", "Vary", "Cache-Control", "Content-Location", "Expires")
# What the key varies on besides the URL.
_VARIES_ON = frozenset({"accept"})
_LIST_SEPARATOR = re.compile(r"\s*,\s*")


@dataclass(frozen=True)
class KeptAnswer:
    """A view's answer as the cache keeps it (picklable, for a cache shared by processes)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes

    @classmethod
    def of(cls, response: HttpResponse) -> KeptAnswer:
        return cls(
            status=response.status_code,
            headers=tuple(response.items()),
            content=response.content,
        )

    def response(self) -> HttpResponse:
        return HttpResponse(self.content, status=self.status, headers=dict(self.headers))


class CachedRoutes:
    """Which cached domain a GET of a path reads, as the plan routes the path (the most
    specific pattern matching it); None where it is no read of a cached domain."""

    def __init__(self, plan: Plan, domains: frozenset[str]) -> None:
        self._locations = [
            (re.compile(pattern.regex), _cached_domain(routes, domains))
            for pattern, routes in plan.locations()
        ]

    def domain(self, path: str) -> str | None:
        for regex, domain in self._locations:
            if regex.match(path):
                return domain
        return None


def _cached_domain(routes: tuple[Route, ...], domains: frozenset[str]) -> str | None:
    return next((r.domain for r in routes if "GET" in r.methods and r.domain in domains), None)


def request_variant(request: HttpRequest) -> str:
    """What the answer to a GET depends on besides the data."""
    return f"{request.build_absolute_uri()}\n{request.headers.get('Accept', '')}"


def fingerprint(generation: generations.Generation, variant: str) -> str:
    text = f"{generation.domain}\n{generation.epoch}\n{generation.value}\n{variant}"
    return hashlib.sha256(text.encode()).hexdigest()


def etag_of(fingerprint: str) -> str:
    return f'"{fingerprint[:32]}"'


def is_keepable(response: HttpResponseBase) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    varies = {v.lower() for v in _LIST_SEPARATOR.split(response.get("Vary", "").strip()) if v}
    return varies <= _VARIES_ON


def names_etag(request: HttpRequest, etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in {tag.removeprefix("W/") for tag in tags}


def not_modified(response: HttpResponse) -> HttpResponseNotModified:
    answer = HttpResponseNotModified()
    for header in _KEPT_ON_304:
        if header in response:
            answer[header] = response[header]
    return answer


def credentials_accepted(request: HttpRequest) -> bool:
    """True unless the request carries credentials the API's authenticators refuse."""
    if "HTTP_AUTHORIZATION" not in request.META:
        return True
    # The authenticators a view of the API has (DRF's defaults, which the cached views keep).
    authenticators = APIView().get_authenticators()
    try:
        Request(request, authenticators=authenticators).user  # noqa: B018  authenticates
    except exceptions.APIException:
        return False
    return True


class ReadCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.routes = CachedRoutes(
            strangler_settings.plan, frozenset(strangler_settings.READ_CACHE_DOMAINS)
        )

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        domain = self.routes.domain(request.path) if request.method == "GET" else None
        if domain is None or not credentials_accepted(request):
            return self.get_response(request)
        # Read before the data: what the view reads next is at least as new as this.
        generation = generations.current(domain)
        key = fingerprint(generation, request_variant(request))
        cache = caches[strangler_settings.READ_CACHE_ALIAS]
        kept = cache.get(KEY_PREFIX + key)
        if kept is not None:
            response = kept.response()
        else:
            computed = self.get_response(request)
            if not isinstance(computed, HttpResponse) or not is_keepable(computed):
                return computed
            cache.set(KEY_PREFIX + key, KeptAnswer.of(computed))
            response = computed
        etag = etag_of(key)
        response["ETag"] = etag
        if names_etag(request, etag):
            return not_modified(response)
        return response
