"""Strip what legitimately differs between two answers to the same request.

Two backends (or two runs) answering the same request agree on status, shape and values but not
on request ids, timestamps, freshly minted tokens or the host in absolute links. The normaliser
replaces those with stable placeholders so that what remains can be compared exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TIMESTAMP = "<timestamp>"
TOKEN = "<token>"
ID = "<id>"

ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
ABSOLUTE_URL = re.compile(r"^https?://[^/\s]+(/\S*)?$")

DEFAULT_TIMESTAMP_KEYS = frozenset({"created_at", "updated_at", "date_joined", "paid_at"})
DEFAULT_TOKEN_KEYS = frozenset({"access", "refresh"})
# Ids are stable across migration steps, so they are compared by default; comparing two
# independent runs (different databases) masks them with `mask_ids=True`.
DEFAULT_ID_KEYS = frozenset({"id", "payment_id", "order_id", "product_id"})
# Headers whose values must agree between backends; everything else is transport detail.
DEFAULT_COMPARED_HEADERS = frozenset({"content-type", "www-authenticate", "allow"})


def _sorted_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def strip_url_host(url: str) -> str:
    """`http://host:8080/api/x?b=2&a=1` -> `/api/x?a=1&b=2` (query sorted for stability)."""
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path or "/", _sorted_query(parts.query), parts.fragment))


@dataclass(frozen=True)
class NormalisedResponse:
    status: int
    headers: Mapping[str, str]
    body: Any

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "headers": dict(self.headers), "body": self.body}


@dataclass(frozen=True)
class Normaliser:
    timestamp_keys: frozenset[str] = DEFAULT_TIMESTAMP_KEYS
    token_keys: frozenset[str] = DEFAULT_TOKEN_KEYS
    id_keys: frozenset[str] = DEFAULT_ID_KEYS
    compared_headers: frozenset[str] = DEFAULT_COMPARED_HEADERS
    mask_ids: bool = False
    # Timestamps under keys nobody listed are still recognised by their shape.
    detect_timestamps: bool = True
    extra_volatile_keys: frozenset[str] = field(default_factory=frozenset)

    def body(self, value: Any) -> Any:
        return self._value(None, value)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        kept: dict[str, str] = {}
        for name, value in items:
            lowered = name.lower()
            if lowered in self.compared_headers:
                kept[lowered] = " ".join(value.split())
        return dict(sorted(kept.items()))

    def response(
        self,
        *,
        status: int,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        content: bytes,
    ) -> NormalisedResponse:
        return NormalisedResponse(
            status=status, headers=self.headers(headers), body=self.body(decode_body(content))
        )

    def httpx_response(self, response: Any) -> NormalisedResponse:
        """Normalise an `httpx.Response` (duck-typed so httpx stays optional here)."""
        return self.response(
            status=response.status_code,
            headers=response.headers.multi_items(),
            content=response.content,
        )

    def _value(self, key: str | None, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: self._value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(key, item) for item in value]
        if value is None or key is None:
            return self._scalar(value)
        if key in self.extra_volatile_keys:
            return f"<{key}>"
        if key in self.token_keys and isinstance(value, str):
            return TOKEN
        if key in self.timestamp_keys and isinstance(value, str):
            return TIMESTAMP
        if self.mask_ids and key in self.id_keys and isinstance(value, int | str):
            return ID
        return self._scalar(value)

    def _scalar(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if self.detect_timestamps and ISO_DATETIME.match(value):
            return TIMESTAMP
        if ABSOLUTE_URL.match(value):
            return strip_url_host(value)
        return value


def decode_body(content: bytes) -> Any:
    """JSON bodies become Python values; anything else is kept as text for an exact compare."""
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return content.decode("utf-8", errors="replace")
