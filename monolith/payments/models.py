from django.db import models

from orders.models import Order


class Payment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    gateway = models.CharField(max_length=50)
    gateway_reference = models.CharField(max_length=100)
    card_last4 = models.CharField(max_length=4)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The last line of defence against charging an order twice.
            models.UniqueConstraint(fields=["order"], name="one_payment_per_order")
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of order {self.order_id}"
