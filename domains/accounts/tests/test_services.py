from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts import services
from accounts.models import RefreshToken, User
from strangler.service.config import password_hashers
from strangler.sync.models import OutboxEvent
from strangler.sync.ownership import set_ownership

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    """Moves the services' clock: clock(days=6) is six days after the test started."""
    start = timezone.now()

    def move(**delta) -> None:
        monkeypatch.setattr(timezone, "now", lambda: start + timedelta(**delta))

    return move


def test_a_login_rotates_for_thirty_days_at_most_however_often_it_rotates(customer, clock):
    assert timedelta(days=30) == services.REFRESH_FAMILY_LIFETIME
    refresh = services.obtain_token_pair(email="ann@example.com", password="ann-pass-1234").refresh
    # Rotated every six days, within each token's seven-day lifetime...
    for day in (6, 12, 18, 24, 29):
        clock(days=day)
        refresh = services.rotate_refresh_token(refresh_token=refresh).refresh

    # ... until the login is thirty days old: then the user logs in again.
    newest = RefreshToken.objects.latest("id")
    first = RefreshToken.objects.earliest("id")
    assert newest.expires_at == first.created_at + services.REFRESH_FAMILY_LIFETIME
    clock(days=30, minutes=1)
    with pytest.raises(services.InvalidRefreshToken):
        services.rotate_refresh_token(refresh_token=refresh)


def test_a_rotation_early_in_a_login_keeps_the_full_token_lifetime(customer, settings):
    refresh = services.obtain_token_pair(email="ann@example.com", password="ann-pass-1234").refresh
    services.rotate_refresh_token(refresh_token=refresh)

    newest = RefreshToken.objects.latest("id")
    assert newest.expires_at - newest.created_at == timedelta(
        seconds=settings.JWT_REFRESH_TTL_SECONDS
    )


def test_a_password_change_ends_every_login_of_the_user(customer, other_customer):
    mine = services.obtain_token_pair(email="ann@example.com", password="ann-pass-1234")
    theirs = services.obtain_token_pair(email="bob@example.com", password="bob-pass-1234")

    customer.set_password("new-pass-5678")
    customer.save()

    with pytest.raises(services.InvalidRefreshToken):
        services.rotate_refresh_token(refresh_token=mine.refresh)
    assert services.rotate_refresh_token(refresh_token=theirs.refresh).refresh


def test_a_copy_checks_an_old_hash_without_rehashing_it(settings):
    """Django's authenticate (the admin's login) re-hashes an old hash on a match: on a copy,
    which may not write users, the match still counts and the hash stays as the owner has it."""
    settings.PASSWORD_HASHERS = password_hashers()
    old_hash = make_password("old-pass-1234", hasher="pbkdf2_sha256")
    user = User(email="old@example.com", name="Old", password=old_hash)
    user.save()
    set_ownership(domain="auth", owner="auth", state="active")
    recorded = OutboxEvent.objects.count()

    assert authenticate(email="old@example.com", password="old-pass-1234") == user

    user.refresh_from_db()
    assert user.password == old_hash
    assert OutboxEvent.objects.count() == recorded
