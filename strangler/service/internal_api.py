"""A domain's own internal API (/internal/<domain>/): the calls one backend makes on the owner
of a domain it does not own (branch by abstraction), through the proxy's internal listener,
which routes them to the domain's write owner at the current step.

Served with DRF like the public API, but never to a caller without the internal token: such a
caller gets the answer an unknown path gets (404), as on /internal/sync/.
"""

from __future__ import annotations

import httpx
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from strangler.conf import strangler_settings

from . import internal_token
from .http import service_client


class InternalCallerOnly(BasePermission):
    """Lets in only callers presenting the internal token (X-Internal-Token)."""

    def has_permission(self, request, view) -> bool:
        presented = request.headers.get(internal_token.HEADER, "")
        if not internal_token.presented_matches(strangler_settings.INTERNAL_TOKEN, presented):
            raise exceptions.NotFound(internal_token.REFUSAL)
        return True


class InternalAPIView(APIView):
    """A view of a domain's internal API: no user, only the internal token."""

    authentication_classes: list = []
    permission_classes = [InternalCallerOnly]


def internal_client(*, domain: str, timeout: float = 5.0, retries: int = 2) -> httpx.Client:
    """A client of `domain`'s internal API through the proxy's internal listener
    (STRANGLER_INTERNAL_PROXY_URL), presenting the internal token; idempotent calls (PUT,
    DELETE, GET) are retried, like every service call. Each domain has its own circuit breaker:
    a dead catalog does not stop the calls to the orders' owner."""
    url = strangler_settings.INTERNAL_PROXY_URL
    client = service_client(url, timeout=timeout, retries=retries, target=f"{url} {domain}")
    client.headers[internal_token.HEADER] = strangler_settings.INTERNAL_TOKEN
    return client
