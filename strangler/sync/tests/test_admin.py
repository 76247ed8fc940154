"""The admin of a synced model (the monolith's users): saves where this backend owns them,
forwards the change to the owner where it holds a copy."""

import json
from datetime import UTC, datetime

import pytest

from accounts.models import User
from strangler.sync.models import OutboxEvent
from strangler.sync.ownership import set_ownership

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser(
        email="admin@example.com",
        password="admin-pass-1234",
        name="Admin",
        date_joined=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # whole seconds, as the form
    )
    client.force_login(admin)
    client.admin = admin
    return client


@pytest.fixture
def auth_owner(fake_auth_backend, monkeypatch):
    """The auth service as owner of users: answers /changes as told, records what it got."""
    received = []
    monkeypatch.setattr("strangler.sync.admin.FOLLOW_SECONDS", 0.0)

    def start(status=200, answer=None):
        def respond(method, path, headers, body):
            received.append((method, path, json.loads(body)))
            return status, answer or {"id": 1, "changed": []}

        fake_auth_backend(respond)
        set_ownership(domain="auth", owner="auth", state="active")
        return received

    return start


def _change_form(user: User, **fields) -> dict:
    form = {
        "email": user.email,
        "name": user.name,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    # A callable default (timezone.now) makes the form send the initial value along.
    form |= {f"initial-{name}": value for name, value in form.items() if name[:-2] == "date_joined"}
    return {**form, **fields}


def test_the_owners_admin_adds_users_but_deletes_none(admin_client):
    assert admin_client.get("/admin/accounts/user/add/").status_code == 200
    admin = admin_client.admin
    assert admin_client.get(f"/admin/accounts/user/{admin.pk}/delete/").status_code == 403


def test_a_copys_admin_adds_no_user(admin_client, auth_owner):
    auth_owner()
    assert admin_client.get("/admin/accounts/user/add/").status_code == 403


def test_a_copys_admin_sends_the_changed_fields_to_the_owner_and_writes_nothing(
    admin_client, auth_owner
):
    received = auth_owner()
    admin = admin_client.admin
    recorded = OutboxEvent.objects.count()

    response = admin_client.post(
        f"/admin/accounts/user/{admin.pk}/change/", _change_form(admin, name="Renamed")
    )

    assert response.status_code == 302
    assert received == [
        (
            "POST",
            "/internal/sync/aggregates/user/changes",
            {"id": admin.pk, "fields": {"name": "Renamed"}},
        )
    ]
    assert User.objects.get(pk=admin.pk).name == "Admin"
    assert OutboxEvent.objects.count() == recorded


def test_a_copys_password_form_sends_the_new_hash_to_the_owner(admin_client, auth_owner):
    received = auth_owner()
    admin = admin_client.admin
    old_hash = admin.password

    response = admin_client.post(
        f"/admin/accounts/user/{admin.pk}/password/",
        {"password1": "new-pass-5678", "password2": "new-pass-5678", "usable_password": "true"},
    )

    assert response.status_code == 302
    ((_, path, body),) = received
    assert path == "/internal/sync/aggregates/user/changes"
    assert list(body["fields"]) == ["password"]
    sent = User(password=body["fields"]["password"])
    assert sent.check_password("new-pass-5678")
    assert User.objects.get(pk=admin.pk).password == old_hash


def test_a_change_the_owner_refuses_is_reported_and_not_saved(admin_client, auth_owner):
    auth_owner(status=409, answer={"detail": "auth does not own the writes of auth"})
    admin = admin_client.admin

    response = admin_client.post(
        f"/admin/accounts/user/{admin.pk}/change/",
        _change_form(admin, name="Refused"),
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Not saved: auth owns auth and refused the change") for m in shown)
    assert User.objects.get(pk=admin.pk).name == "Admin"


def test_a_change_for_an_owner_that_cannot_be_reached_is_reported_as_such(admin_client, settings):
    settings.STRANGLER_BACKEND_URLS = {"auth": "http://127.0.0.1:9"}
    set_ownership(domain="auth", owner="auth", state="active")
    admin = admin_client.admin

    response = admin_client.post(
        f"/admin/accounts/user/{admin.pk}/change/",
        _change_form(admin, name="Unsent"),
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Not saved: auth owns auth and could not be asked") for m in shown)
    assert User.objects.get(pk=admin.pk).name == "Admin"
