"""Orders placed before stock reservations existed get one: a live order holds its units under
`order-<id>`, so cancelling it releases them through the same port as a new order's."""

from django.db import migrations, models
from django.utils import timezone


def reserve_existing_orders(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    StockReservation = apps.get_model("catalog", "StockReservation")
    for order in Order.objects.filter(reservation_key__isnull=True).prefetch_related("items"):
        key = f"order-{order.pk}"
        lines: dict[str, int] = {}
        for item in order.items.all():
            lines[str(item.product_id)] = lines.get(str(item.product_id), 0) + item.quantity
        cancelled = order.status == "cancelled"
        StockReservation.objects.create(
            key=key,
            lines=lines,
            state="released" if cancelled else "held",
            released_at=(order.cancelled_at or timezone.now()) if cancelled else None,
        )
        order.reservation_key = key
        order.save(update_fields=["reservation_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("catalog", "0002_stockreservation"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="reservation_key",
            field=models.CharField(max_length=100, null=True, unique=True),
        ),
        migrations.RunPython(reserve_existing_orders, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="reservation_key",
            field=models.CharField(max_length=100, unique=True),
        ),
    ]
