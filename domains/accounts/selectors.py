from .models import User


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def email_taken(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
