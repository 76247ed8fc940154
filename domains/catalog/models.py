from django.db import models

from strangler.sync.recorded import SyncedModel, SyncedQuerySet


class Category(SyncedModel):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)

    objects = SyncedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(SyncedModel):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    stock = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SyncedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="product_price_positive"),
            models.CheckConstraint(
                condition=models.Q(stock__gte=0), name="product_stock_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["price"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class StockReservation(SyncedModel):
    """Units taken from stock for one checkout attempt, under the attempt's key.

    Taking and giving back stock are two transitions of this row at the catalog's owner, each
    made at most once whoever asks and however often: a retried reservation finds its row, a
    second release finds it released. A release of a key never reserved records the key as
    released, so a reservation arriving after it (a checkout that timed out and was swept) is
    refused instead of taking stock nobody will give back.
    """

    class State(models.TextChoices):
        HELD = "held"
        RELEASED = "released"

    key = models.CharField(max_length=100, unique=True)
    # {product id (as a string: JSON object keys): units}
    lines = models.JSONField(default=dict)
    # What the units cost when they were taken, for the order to freeze: {product id: {"sku",
    # "name", "unit_price" (a decimal string)}}.
    priced = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    objects = SyncedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"reservation {self.key} ({self.state})"

    @property
    def quantities(self) -> dict[int, int]:
        return {int(product_id): units for product_id, units in self.lines.items()}
