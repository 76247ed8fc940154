from celery import shared_task
from django.core.mail import send_mail

from orders.models import Order


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_order_confirmation(*, order_id: int) -> None:
    order = Order.objects.select_related("user").prefetch_related("items").get(pk=order_id)
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
