from django.db.models import QuerySet

from .models import Review


def list_reviews(*, product_id: int) -> QuerySet[Review]:
    return (
        Review.objects.filter(product_id=product_id)
        .select_related("user")
        .order_by("-created_at", "-id")
    )
