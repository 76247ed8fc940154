from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orders import services as order_services

from .gateways import Card, payment_gateway
from .models import Payment
from .tasks import send_order_confirmation


class OrderNotFound(Exception):
    pass


class NotPayable(Exception):
    pass


class CardDeclined(Exception):
    pass


@transaction.atomic
def pay_order(*, user: User, order_id: int, card: Card) -> Payment:
    """Charges a pending order once, whatever the number of concurrent attempts.

    The order row stays locked from the status check to the status change, so a second attempt
    waits and then finds the order paid. A declined card changes nothing.
    """
    order = order_services.lock_payable_order(user=user, order_id=order_id)
    if order is None:
        raise OrderNotFound
    if order.status != order.Status.PENDING_PAYMENT:
        raise NotPayable
    gateway = payment_gateway()
    charge = gateway.charge(
        amount=order.total, currency="USD", card=card, idempotency_key=f"order-{order.pk}"
    )
    if not charge.approved:
        raise CardDeclined
    payment = Payment.objects.create(
        order=order,
        amount=order.total,
        gateway=gateway.name,
        gateway_reference=charge.reference,
        card_last4=card.number[-4:],
    )
    if not order_services.mark_order_paid(order_id=order.pk, paid_at=timezone.now()):
        raise NotPayable
    transaction.on_commit(lambda: send_order_confirmation.delay(order_id=order.pk))
    return payment
