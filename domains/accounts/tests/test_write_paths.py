"""Every path that writes a user records the change for the copies, in the same transaction:
the API, the admin, Django's management commands, the seed, a re-hash at login. Nothing has to
remember to: the model does it (strangler.sync.recorded)."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password
from django.core.management import call_command
from django.utils import timezone

from accounts import services
from accounts.models import RefreshToken, User
from strangler.service.config import password_hashers
from strangler.sync.models import OutboxEvent
from strangler.sync.ownership import NotOwner, set_ownership
from strangler.sync.recorded import UnrecordedWrite

pytestmark = pytest.mark.django_db


def _events(user: User) -> list[OutboxEvent]:
    return list(
        OutboxEvent.objects.filter(aggregate_type="user", aggregate_id=str(user.pk)).order_by("id")
    )


def _last_event(user: User) -> OutboxEvent:
    return _events(user)[-1]


def _refresh_token(user: User) -> RefreshToken:
    token = RefreshToken(
        user=user,
        token_hash=uuid.uuid4().hex,
        family=uuid.uuid4(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    token.save()
    return token


def _revoked(tokens: list[RefreshToken]) -> list[bool]:
    return [RefreshToken.objects.get(pk=t.pk).revoked_at is not None for t in tokens]


def test_a_registration_records_the_new_user():
    user = services.register_user(email="new@example.com", password="long-enough", name="New")

    (event,) = _events(user)
    assert event.version == 1
    assert event.payload["email"] == "new@example.com"
    assert event.payload["password"] == user.password


def test_a_plain_save_like_the_admins_records_the_next_version(customer):
    customer.name = "Ann, renamed"
    customer.save()

    assert [e.version for e in _events(customer)] == [1, 2]
    assert _last_event(customer).payload["name"] == "Ann, renamed"


def test_the_admin_change_form_records_the_change(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    form = {
        "email": staff.email,
        "name": "Staff, renamed in the admin",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-02",
        "date_joined_1": "03:04:05",
    }

    response = client.post(f"/admin/accounts/user/{staff.pk}/change/", form)

    assert response.status_code == 302
    assert _last_event(staff).payload["name"] == "Staff, renamed in the admin"


def test_the_admin_password_form_records_the_new_hash_and_revokes_the_users_tokens(client, staff):
    staff.is_superuser = True
    staff.save()
    token = _refresh_token(staff)
    client.force_login(staff)

    response = client.post(
        f"/admin/accounts/user/{staff.pk}/password/",
        {"password1": "new-pass-5678", "password2": "new-pass-5678", "usable_password": "true"},
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("new-pass-5678")
    assert _last_event(staff).payload["password"] == staff.password
    assert _revoked([token]) == [True]


def test_setting_a_password_and_saving_records_it_and_revokes_every_refresh_token(customer):
    tokens = [_refresh_token(customer), _refresh_token(customer)]

    customer.set_password("new-pass-5678")
    customer.save()

    assert _last_event(customer).payload["password"] == customer.password
    assert _revoked(tokens) == [True, True]
    revocations = OutboxEvent.objects.filter(
        aggregate_type="refresh_token", aggregate_id__in=[str(t.pk) for t in tokens]
    ).exclude(payload__revoked_at=None)
    assert revocations.count() == 2  # the copies revoke them too


def test_a_change_that_keeps_the_password_revokes_nothing(customer):
    token = _refresh_token(customer)

    customer.name = "Ann, renamed"
    customer.save()

    assert _revoked([token]) == [False]


def test_the_changepassword_command_records_the_new_hash_and_revokes_tokens(customer, monkeypatch):
    token = _refresh_token(customer)
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        lambda prompt="": "changed-pass-5678",
    )

    call_command("changepassword", "ann@example.com", stdout=None)

    customer.refresh_from_db()
    assert customer.check_password("changed-pass-5678")
    assert _last_event(customer).payload["password"] == customer.password
    assert _revoked([token]) == [True]


def test_createsuperuser_records_the_new_superuser(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "root-pass-1234")

    call_command(
        "createsuperuser", interactive=False, email="root@example.com", name="Root", verbosity=0
    )

    root = User.objects.get(email="root@example.com")
    (event,) = _events(root)
    assert event.payload["is_superuser"] is True
    assert event.payload["password"] == root.password


def test_the_seed_command_records_the_users_it_creates(settings):
    settings.SHOP_ADMIN_EMAIL, settings.SHOP_ADMIN_PASSWORD = "admin@example.com", "pass-1234"

    call_command("seed_shop", products=0, stdout=None)

    for email in ("admin@example.com", "customer@shop.local"):
        (event,) = _events(User.objects.get(email=email))
        assert event.payload["email"] == email


def test_a_rehash_at_login_records_the_new_hash_and_keeps_the_users_logins(settings):
    settings.PASSWORD_HASHERS = password_hashers()  # Argon2id first, as deployed
    user = User(
        email="old@example.com",
        name="Old",
        password=make_password("old-pass-1234", hasher="pbkdf2_sha256"),
    )
    user.save()
    earlier_login = _refresh_token(user)

    services.obtain_token_pair(email="old@example.com", password="old-pass-1234")

    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert [e.version for e in _events(user)] == [1, 2]
    assert _last_event(user).payload["password"] == user.password
    # The same password, stored anew: a re-hash is no password change.
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=False).exists()
    assert _revoked([earlier_login]) == [False]


def test_a_login_with_a_current_hash_records_no_change_of_the_user(customer):
    services.obtain_token_pair(email="ann@example.com", password="ann-pass-1234")

    assert [e.version for e in _events(customer)] == [1]


def test_a_copy_refuses_to_save_a_user_and_says_who_owns_it(customer):
    set_ownership(domain="auth", owner="auth", state="active")
    recorded = OutboxEvent.objects.count()

    customer.name = "Changed on the copy"
    with pytest.raises(NotOwner) as refused:
        customer.save()

    assert str(refused.value) == (
        "monolith does not own the writes of auth (auth does, active): its copy here is read-only"
    )
    customer.refresh_from_db()
    assert customer.name == "Ann"
    assert OutboxEvent.objects.count() == recorded


def test_a_copy_refuses_to_register_a_user_during_a_handover_too():
    set_ownership(domain="auth", owner="monolith", state="handover")

    with pytest.raises(NotOwner):
        User(email="new@example.com", name="New").save()

    assert not User.objects.exists()


def test_a_bulk_update_of_users_is_refused_because_the_copies_would_miss_it(customer):
    with pytest.raises(UnrecordedWrite, match=r"accounts\.User\.objects\.update\(\)"):
        User.objects.filter(pk=customer.pk).update(name="Sneaky")

    customer.refresh_from_db()
    assert customer.name == "Ann"
