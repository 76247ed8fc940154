"""What the fault cases check: a write refused during a fault is a JSON 503, and once the fault
is over the writes acknowledged to clients are on both backends and the copies agree (parity)."""

from __future__ import annotations

import httpx

from strangler.sync.client import BackendSync
from tests.contract import shapes
from tests.migration.auth_shop import Shop, parity_is_clean


def nothing_was_lost(shop: Shop, user_ids: set[int]) -> None:
    """Every user whose registration was answered 201 is on both backends, and parity is clean
    (the copy holds every row of the owner at its version, and nothing else)."""
    assert user_ids, "no write was acknowledged: the case proved nothing"
    parity_is_clean(shop)
    for name, url in (("monolith", shop.monolith_url), ("auth", shop.auth_url)):
        held = {row["id"] for row in BackendSync(name, url).rows_by_id("user", sorted(user_ids))}
        assert held == user_ids, f"{name} lost users {sorted(user_ids - held)}"


def a_json_503(response: httpx.Response) -> dict:
    """A write the backend cannot take now: 503 in the JSON error shape, saying when to retry,
    whichever layer answered (the proxy for a dead backend, the backend for its database)."""
    body = shapes.error_detail(response, 503)
    assert response.headers.get("Retry-After") == "1", response.headers
    return body
