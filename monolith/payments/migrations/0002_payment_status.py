"""Payments become attempts with a status and a key of their own. A payment made before this
was charged with its order's key and succeeded: it keeps both."""

from django.db import migrations, models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast, Concat


def key_existing_payments(apps, schema_editor):
    apps.get_model("payments", "Payment").objects.update(
        key=Concat(Value("order-"), Cast(F("order_id"), models.CharField()))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_order_payment_id"),
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="payment", name="one_payment_per_order"),
        migrations.AddField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("succeeded", "Succeeded"),
                    ("declined", "Declined"),
                    ("voided", "Voided"),
                ],
                default="succeeded",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("succeeded", "Succeeded"),
                    ("declined", "Declined"),
                    ("voided", "Voided"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="payment",
            name="key",
            field=models.CharField(default="", max_length=100),
            preserve_default=False,
        ),
        migrations.RunPython(key_existing_payments, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="payment",
            name="key",
            field=models.CharField(max_length=100, unique=True),
        ),
        migrations.AlterField(
            model_name="payment",
            name="gateway_reference",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=Q(status__in=["pending", "succeeded"]),
                fields=("order",),
                name="one_active_payment_per_order",
            ),
        ),
    ]
