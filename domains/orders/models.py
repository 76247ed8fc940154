from django.conf import settings
from django.db import models

from catalog.models import Product
from strangler.sync.recorded import SyncedModel, SyncedQuerySet


class CartItem(SyncedModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    # A product deleted by the catalog's owner takes its cart lines along on every copy: each
    # applies the same cascade when the deletion arrives (strangler.sync.recorded).
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    objects = SyncedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="one_cart_line_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product {self.product_id} for user {self.user_id}"


class Order(SyncedModel):
    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment"
        PAID = "paid"
        CANCELLED = "cancelled"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The checkout attempt's stock reservation (catalog.models.StockReservation), released
    # when the order is cancelled.
    reservation_key = models.CharField(max_length=100, unique=True)
    # The payment (kept by the payments domain, in the monolith) that moved the order to paid:
    # marking it paid again with the same payment is a replay, with another one a conflict.
    payment_id = models.BigIntegerField(null=True, blank=True)

    objects = SyncedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


class OrderItem(SyncedModel):
    """A line frozen at checkout: it outlives the product and its later price changes."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    objects = SyncedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
