"""The user table holds what a backfill copies from the monolith, unchanged."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from accounts.models import User
from strangler.sync.outbox import applying_event

pytestmark = pytest.mark.django_db

# A hash as the monolith stores it (Django's PBKDF2, an older iteration count) for "old-pass-1234".
MONOLITH_HASH = "pbkdf2_sha256$870000$backfillsalt0001$tkkvT8Wv1jPRDEgQWefkGjwh6Cagu03wZ3/izRnWi4A="
JOINED = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)


def _copied_user(**fields) -> User:
    row = {
        "id": 4242,
        "email": "old@example.com",
        "name": "Old Timer",
        "password": MONOLITH_HASH,
        "date_joined": JOINED,
    }
    with applying_event():  # as a backfill writes it: copied, not a change made here
        return User.objects.bulk_create([User(**{**row, **fields})])[0]


def test_a_copied_user_keeps_id_join_date_and_password_hash():
    _copied_user()

    stored = User.objects.get(pk=4242)
    assert (stored.email, stored.date_joined, stored.password) == (
        "old@example.com",
        JOINED,
        MONOLITH_HASH,
    )


def test_a_copied_user_logs_in_with_the_old_password_and_sees_the_old_id_and_join_date(api):
    _copied_user()

    login = api.post(
        "/api/auth/token", {"email": "old@example.com", "password": "old-pass-1234"}, format="json"
    )
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    assert login.status_code == 200
    assert me.json() == {
        "id": 4242,
        "email": "old@example.com",
        "name": "Old Timer",
        "is_staff": False,
        "date_joined": "2024-02-29T23:59:58.123456Z",
    }


def test_emails_are_unique_whatever_their_case_in_the_database_itself():
    _copied_user(email="Case@Example.com")

    with pytest.raises(IntegrityError):
        _copied_user(id=4243, email="case@example.com")


def test_the_models_and_their_migrations_agree():
    call_command("makemigrations", "accounts", "--check", "--dry-run", verbosity=0)
