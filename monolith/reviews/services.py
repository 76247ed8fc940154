from django.db import IntegrityError, transaction

from accounts.models import User
from catalog.models import Product

from .models import Review


class AlreadyReviewed(Exception):
    pass


def create_review(*, product: Product, user: User, rating: int, title: str, body: str) -> Review:
    try:
        with transaction.atomic():
            return Review.objects.create(
                product=product, user=user, rating=rating, title=title, body=body
            )
    except IntegrityError as exc:
        # The unique constraint, not a prior read, decides: two concurrent posts cannot both win.
        raise AlreadyReviewed from exc
