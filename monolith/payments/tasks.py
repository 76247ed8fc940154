from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_order_confirmation(*, payment_id: int) -> None:
    from .services import send_confirmation

    send_confirmation(payment_id=payment_id)


@shared_task
def send_due_confirmations() -> int:
    """Celery beat: the confirmations whose task was never queued (the broker was away)."""
    from .services import send_due_confirmations

    return send_due_confirmations()
