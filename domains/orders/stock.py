"""The stock port: how the order code takes stock for a checkout and gives it back (branch by
abstraction). While this backend owns the catalog, the catalog's services run here, in the
order's own transaction; once another backend owns it, the catalog's internal reservation API
is called through the proxy's internal listener, which routes to the owner at the step.

Both sides speak in reservations keyed by the checkout attempt (catalog.models.StockReservation):
idempotent, all or nothing, released exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import httpx

from catalog import services as catalog_services
from catalog.apps import DOMAIN as CATALOG
from strangler.service.internal_api import internal_client
from strangler.sync.ownership import NotOwner, settled_here

RELEASE = "catalog.release_stock"
_PATH = "/internal/catalog/reservations/{key}"


@dataclass(frozen=True)
class PricedLine:
    """What a reserved product cost when its units were taken: the order freezes it."""

    sku: str
    name: str
    unit_price: Decimal


Priced = dict[int, PricedLine]


def _priced(priced: Mapping[str, Mapping[str, str]]) -> Priced:
    return {
        int(product_id): PricedLine(
            sku=line["sku"], name=line["name"], unit_price=Decimal(line["unit_price"])
        )
        for product_id, line in priced.items()
    }


class CatalogUnavailable(Exception):
    """The catalog's owner could not be reached or did not answer: nothing was ordered."""


def owned_here() -> bool:
    """Whether the catalog's writes happen here now (see settled_here)."""
    return settled_here(CATALOG)


def reserve_locally(*, key: str, quantities: Mapping[int, int]) -> Priced:
    return _priced(catalog_services.reserve_stock(key=key, quantities=quantities).priced)


def reserve_remotely(*, key: str, quantities: Mapping[int, int]) -> Priced:
    """PUT is idempotent on the key, so the client retries it on a lost answer or a 503."""
    lines = {str(product_id): units for product_id, units in quantities.items()}
    answer = _call("PUT", key, json={"lines": lines})
    if answer.status_code == 409 and _code(answer) == "out_of_stock":
        raise catalog_services.OutOfStock(int(answer.json()["product_id"]))
    _expect_success(answer)
    return _priced(answer.json()["priced"])


def release(key: str) -> None:
    """Gives back what the key holds, exactly once (a compensation action: idempotent)."""
    if owned_here():
        try:
            catalog_services.release_stock(key=key)
            return
        except NotOwner:
            pass  # a flip in between: the new owner releases it
    _expect_success(_call("DELETE", key))


def _call(method: str, key: str, **kwargs) -> httpx.Response:
    try:
        with internal_client(domain=CATALOG) as client:
            return client.request(method, _PATH.format(key=key), **kwargs)
    except httpx.HTTPError as exc:
        raise CatalogUnavailable(f"the catalog's owner is unreachable: {exc}") from exc


def _code(answer: httpx.Response) -> str | None:
    try:
        return answer.json().get("code")
    except ValueError:
        return None


def _expect_success(answer: httpx.Response) -> None:
    if answer.status_code >= 400:
        raise CatalogUnavailable(
            f"the catalog's owner answered {answer.status_code}: {answer.text[:200]}"
        )
