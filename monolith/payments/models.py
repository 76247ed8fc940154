from django.db import models
from django.db.models import Q

from orders.models import Order


class Payment(models.Model):
    """One attempt to pay an order: opened before the card is charged, concluded once the
    order's owner has said whether the order is paid by it (see services.pay_order)."""

    class Status(models.TextChoices):
        PENDING = "pending"  # opened; the charge or the order's answer not yet concluded
        SUCCEEDED = "succeeded"  # charged, and the order is paid by this payment
        DECLINED = "declined"  # the card was refused: nothing charged
        VOIDED = "voided"  # charged, but the order could not be paid by it: the charge voided

    ACTIVE = (Status.PENDING, Status.SUCCEEDED)

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    # The charge's idempotency key at the gateway, and the key of the compensation that
    # concludes the payment should its process die before it does.
    key = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    gateway = models.CharField(max_length=50)
    gateway_reference = models.CharField(max_length=100, blank=True)
    card_last4 = models.CharField(max_length=4)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the order's confirmation e-mail went out (once, for a succeeded payment).
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The last line of defence against charging an order twice: of the attempts to pay
            # an order, one at most is under way or succeeded.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["pending", "succeeded"]),
                name="one_active_payment_per_order",
            )
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id} ({self.status})"
