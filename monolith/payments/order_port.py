"""The orders port of the payments: how a payment moves its order to paid (branch by
abstraction). While this backend owns the orders, the orders' services run here; once another
backend owns them, the orders' internal API is called through the proxy's internal listener,
which routes it to the owner at the step. Either way the payment's id is the idempotency key:
marking an order paid again by the same payment answers as the first time did.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from orders import services as order_services
from orders.apps import DOMAIN as ORDERS
from strangler.service.internal_api import internal_client
from strangler.sync.ownership import NotOwner, settled_here

_PATH = "/internal/orders/{order_id}/payment"


class OrdersUnavailable(Exception):
    """The orders' owner could not be reached or did not answer: the order's state is unknown."""


def mark_paid(*, order_id: int, payment_id: int, paid_at: datetime) -> bool:
    """Whether the order is paid by the payment now (False: gone, cancelled or paid by another).

    PUT is idempotent on the payment, so the client retries it on a lost answer or a 503."""
    if settled_here(ORDERS):
        try:
            return order_services.mark_order_paid(
                order_id=order_id, payment_id=payment_id, paid_at=paid_at
            )
        except NotOwner:
            pass  # a flip in between: ask the new owner
    payment = {"payment_id": payment_id, "paid_at": paid_at.isoformat()}
    try:
        with internal_client(domain=ORDERS) as client:
            answer = client.put(_PATH.format(order_id=order_id), json=payment)
    except httpx.HTTPError as exc:
        raise OrdersUnavailable(f"the orders' owner is unreachable: {exc}") from exc
    if answer.status_code == 200:
        return True
    if answer.status_code == 409 and answer.json().get("code") == "not_payable":
        return False
    raise OrdersUnavailable(f"the orders' owner answered {answer.status_code}: {answer.text[:200]}")
