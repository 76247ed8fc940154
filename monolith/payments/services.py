"""Paying an order: the payments stay in the monolith while the orders may live elsewhere.

No distributed transaction. A payment is opened (its own committed row, which allows one
payment under way or succeeded per order), the card is charged under the payment's key, and
the order's owner is asked to mark the order paid by this payment (order_port: idempotent on
the payment). Its answer concludes the payment: succeeded (and the confirmation e-mail sent,
once), or voided (the charge given back) when the order was cancelled or paid in between.

The conclusion is a compensation (strangler.sync.compensations) recorded before the charge:
should the owner be unreachable, or the process die, after the card was charged, the sweeper
asks the owner again and concludes the payment the same way.
"""

import logging
import uuid
from datetime import timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from orders import selectors as order_selectors
from orders.models import Order
from strangler.sync import compensations

from . import order_port
from .gateways import Card, payment_gateway
from .models import Payment
from .tasks import send_order_confirmation

logger = logging.getLogger(__name__)

CONCLUDE = "payments.conclude_payment"
# A succeeded payment still unconfirmed after this had its task lost: the beat sends it.
CONFIRMATION_DUE_AFTER = timedelta(seconds=30)


class OrderNotFound(Exception):
    pass


class NotPayable(Exception):
    pass


class CardDeclined(Exception):
    pass


class OrderUnconfirmed(Exception):
    """The card was charged but the order's owner could not be asked: the sweeper concludes the
    payment (paid, or the charge voided) once it can."""


def pay_order(*, user: User, order_id: int, card: Card) -> Payment:
    """Charges a pending order once, whatever the number of concurrent attempts.

    Of concurrent attempts only one opens a payment (the others are NotPayable at once); of a
    payment and a cancel, the order's owner lets one win, and a payment that lost is voided.
    """
    key = f"payment-{uuid.uuid4().hex}"
    with compensations.compensated(action=CONCLUDE, key=key):
        payment = _open_payment(user=user, order_id=order_id, card=card, key=key)
        gateway = payment_gateway()
        charge = gateway.charge(
            amount=payment.amount, currency=payment.currency, card=card, idempotency_key=key
        )
        if not charge.approved:
            _close(payment, status=Payment.Status.DECLINED)
            raise CardDeclined
        payment.gateway_reference = charge.reference
        payment.save(update_fields=["gateway_reference"])
        try:
            _conclude(payment)
        except order_port.OrdersUnavailable as exc:
            raise OrderUnconfirmed from exc  # asked once more now, then by the sweeper
    if payment.status != Payment.Status.SUCCEEDED:
        raise NotPayable
    return payment


@transaction.atomic
def _open_payment(*, user: User, order_id: int, card: Card, key: str) -> Payment:
    """The order as this backend sees it (its own, or its copy of the owner's): a look only,
    the owner decides when the payment concludes."""
    order = order_selectors.get_order_to_pay(user=user, order_id=order_id)
    if order is None:
        raise OrderNotFound
    if order.status != order.Status.PENDING_PAYMENT:
        raise NotPayable
    try:
        with transaction.atomic():
            return Payment.objects.create(
                order=order,
                key=key,
                amount=order.total,
                gateway=payment_gateway().name,
                card_last4=card.number[-4:],
            )
    except IntegrityError:
        raise NotPayable from None  # another payment of the order is under way or succeeded


def _conclude(payment: Payment) -> None:
    """Asks the order's owner to mark the order paid by the payment, and concludes it."""
    paid = order_port.mark_paid(
        order_id=payment.order_id, payment_id=payment.pk, paid_at=timezone.now()
    )
    if not paid:
        payment_gateway().void(idempotency_key=payment.key)
    _close(payment, status=Payment.Status.SUCCEEDED if paid else Payment.Status.VOIDED)


@transaction.atomic
def _close(payment: Payment, *, status: str) -> None:
    """Moves a pending payment to its end once (the e-mail goes with the move to succeeded),
    settling its compensation in the same transaction."""
    moved = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        status=status
    )
    compensations.settle(key=payment.key)
    payment.refresh_from_db(fields=["status"])
    if moved and status == Payment.Status.SUCCEEDED:
        payment_id = payment.pk
        transaction.on_commit(lambda: _queue_confirmation(payment_id))


def _queue_confirmation(payment_id: int) -> None:
    try:
        send_order_confirmation.delay(payment_id=payment_id)
    except Exception as exc:  # the broker is away: the beat sends it once it is back
        logger.warning("confirmation of payment %s not queued, left for later: %s", payment_id, exc)


@transaction.atomic
def send_confirmation(*, payment_id: int) -> bool:
    """Mails the order's confirmation for a succeeded payment once, however often asked."""
    payment = (
        Payment.objects.select_for_update()
        .filter(pk=payment_id, status=Payment.Status.SUCCEEDED, confirmed_at__isnull=True)
        .first()
    )
    if payment is None:
        return False
    order = Order.objects.select_related("user").prefetch_related("items").get(pk=payment.order_id)
    lines = "\n".join(
        f"  {item.quantity} x {item.name} ({item.sku}) @ {item.unit_price} = {item.line_total}"
        for item in order.items.all()
    )
    send_mail(
        subject=f"Your order #{order.pk} is confirmed",
        message=(
            f"Hello {order.user.name},\n\nWe received your payment for order #{order.pk}.\n\n"
            f"{lines}\n\nTotal: {order.total} USD\n"
        ),
        from_email=None,
        recipient_list=[order.user.email],
    )
    payment.confirmed_at = timezone.now()
    payment.save(update_fields=["confirmed_at"])
    return True


def send_due_confirmations() -> int:
    due = Payment.objects.filter(
        status=Payment.Status.SUCCEEDED,
        confirmed_at__isnull=True,
        created_at__lte=timezone.now() - CONFIRMATION_DUE_AFTER,
    ).values_list("pk", flat=True)
    return sum(send_confirmation(payment_id=payment_id) for payment_id in list(due[:100]))


def conclude_payment(key: str) -> None:
    """The compensation of a payment whose process stopped before concluding it: a charge never
    recorded is voided; a recorded one is concluded by the order's owner's answer."""
    payment = Payment.objects.filter(key=key).first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return
    if not payment.gateway_reference:
        payment_gateway().void(idempotency_key=key)
        _close(payment, status=Payment.Status.VOIDED)
        return
    _conclude(payment)
