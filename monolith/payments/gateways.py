"""The payment gateway seam: one interface, a built-in test gateway, a setting to pick one."""

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Card:
    number: str
    exp_month: int
    exp_year: int
    cvc: str


@dataclass(frozen=True)
class Charge:
    approved: bool
    reference: str


class PaymentGateway(Protocol):
    name: str

    def charge(
        self, *, amount: Decimal, currency: str, card: Card, idempotency_key: str
    ) -> Charge: ...

    def void(self, *, idempotency_key: str) -> None:
        """Cancels the charge made under the key, if one was; idempotent."""


class TestGateway:
    """Approves every valid card except numbers ending in 0002, like real test card ranges."""

    name = "test"

    def charge(self, *, amount: Decimal, currency: str, card: Card, idempotency_key: str) -> Charge:
        reference = "test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return Charge(approved=not card.number.endswith("0002"), reference=reference)

    def void(self, *, idempotency_key: str) -> None:
        pass  # the test gateway moves no money, so there is nothing to give back


@cache
def payment_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()
