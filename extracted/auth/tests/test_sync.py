"""The service inside the sync: what it records as owner, what it applies as a copy, what it
forwards while the monolith owns users, and what a backfill leaves behind."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import override_settings

from accounts.models import RefreshToken, User
from strangler.service.internal_token import HEADER
from strangler.sync.consumer import Event, apply_event
from strangler.sync.models import OutboxEvent
from strangler.sync.outbox import applying_event
from strangler.sync.ownership import set_ownership
from strangler.sync.states import EventOutcome

pytestmark = pytest.mark.django_db

# "old-pass-1234" hashed by an older Django (fewer PBKDF2 iterations than today's default).
OLD_HASH = "pbkdf2_sha256$870000$backfillsalt0001$tkkvT8Wv1jPRDEgQWefkGjwh6Cagu03wZ3/izRnWi4A="
USER_PAYLOAD = {
    "email": "copied@example.com",
    "name": "Copied",
    "password": OLD_HASH,
    "is_staff": False,
    "is_superuser": False,
    "is_active": True,
    "date_joined": "2025-01-02T03:04:05.678901Z",
}


def _register(api, email="new@example.com"):
    return api.post(
        "/api/auth/register",
        {"email": email, "password": "long-enough", "name": "New"},
        format="json",
    )


def _login(api, email, password):
    return api.post("/api/auth/token", {"email": email, "password": password}, format="json")


def _monolith_event(*, version: int, **payload) -> Event:
    return Event(
        event_id=str(uuid.uuid4()),
        source="monolith",
        aggregate_type="user",
        aggregate_id="77",
        version=version,
        payload={**USER_PAYLOAD, **payload},
        deleted=False,
    )


def test_registering_records_the_new_user_in_the_outbox(api):
    created = _register(api).json()

    (event,) = OutboxEvent.objects.filter(aggregate_type="user")
    stored = User.objects.get(pk=created["id"])
    assert (event.aggregate_id, event.version) == (str(created["id"]), 1)
    assert event.payload["email"] == "new@example.com"
    assert event.payload["password"] == stored.password
    assert event.payload["date_joined"] == created["date_joined"]


def test_a_refused_registration_records_nothing(api, customer):
    recorded = OutboxEvent.objects.count()  # the customer's own registration

    assert _register(api, email="ANN@example.com").status_code == 400

    assert OutboxEvent.objects.count() == recorded


def test_logging_in_and_refreshing_record_every_refresh_token_change(api, customer):
    first = _login(api, "ann@example.com", "ann-pass-1234").json()
    api.post("/api/auth/token/refresh", {"refresh": first["refresh"]}, format="json")

    events = list(
        OutboxEvent.objects.filter(aggregate_type="refresh_token")
        .order_by("id")
        .values_list("aggregate_id", "version")
    )
    spent, rotated = RefreshToken.objects.order_by("id")
    assert events == [(str(spent.pk), 1), (str(spent.pk), 2), (str(rotated.pk), 1)]


def test_a_password_rehashed_at_login_is_recorded_so_the_copies_follow(api):
    with applying_event():  # a user copied from the monolith, with the monolith's PBKDF2 hash
        User.objects.bulk_create([User(id=42, **USER_PAYLOAD)])

    assert _login(api, "copied@example.com", "old-pass-1234").status_code == 200

    rehashed = User.objects.get(pk=42).password
    assert identify_hasher(rehashed).algorithm == "argon2"
    assert identify_hasher(rehashed).must_update(rehashed) is False
    (event,) = OutboxEvent.objects.filter(aggregate_type="user", aggregate_id="42")
    assert event.payload["password"] == rehashed
    # Same password: the login's refresh token, issued after the re-hash, stays valid.
    assert not RefreshToken.objects.filter(user_id=42, revoked_at__isnull=False).exists()


def test_a_user_event_from_the_monolith_creates_the_copy_and_emits_nothing(monolith_owns_auth):
    assert apply_event(_monolith_event(version=1)) == EventOutcome.APPLIED

    copy = User.objects.get(pk=77)
    assert (copy.email, copy.password) == ("copied@example.com", OLD_HASH)
    assert copy.date_joined.isoformat() == "2025-01-02T03:04:05.678901+00:00"
    assert not OutboxEvent.objects.exists()


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(monolith_owns_auth):
    apply_event(_monolith_event(version=2, name="Renamed"))

    assert apply_event(_monolith_event(version=1, name="Original")) == EventOutcome.STALE
    assert User.objects.get(pk=77).name == "Renamed"


def test_a_copied_user_logs_in_here_with_the_old_password_after_the_flip(api):
    apply_event(_monolith_event(version=1))

    login = _login(api, "copied@example.com", "old-pass-1234")
    me = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}")

    assert me.json()["id"] == 77
    assert me.json()["date_joined"] == "2025-01-02T03:04:05.678901Z"


@pytest.fixture
def monolith_stub():
    """A monolith on a loopback port that answers every write 201 and remembers what it got."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            answer = json.dumps({"id": 9, "email": "new@example.com"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with override_settings(STRANGLER_BACKEND_URLS={"monolith": url, "auth": "http://unused"}):
            yield received
    finally:
        server.shutdown()
        server.server_close()


def test_before_the_flip_a_registration_here_is_forwarded_to_the_monolith(
    api, monolith_owns_auth, monolith_stub
):
    response = _register(api)

    assert response.status_code == 201
    assert response.json() == {"id": 9, "email": "new@example.com"}
    (forwarded,) = monolith_stub
    assert forwarded["path"] == "/api/auth/register"
    assert json.loads(forwarded["body"])["email"] == "new@example.com"
    assert forwarded["headers"]["X-Strangler-Forwarded-By"] == "auth"
    assert not User.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_backfilled_rows_keep_their_ids_and_later_registrations_get_ids_past_them(api):
    internal = {HEADER: settings.STRANGLER_INTERNAL_TOKEN}  # as the CLI's backfill calls
    copied = api.post(
        "/internal/sync/aggregates/user/rows",
        {"rows": [{"id": 500, "version": 3, "payload": USER_PAYLOAD}]},
        format="json",
        headers=internal,
    )
    moved = api.post(
        "/internal/sync/domains/auth/sequences",
        {"floor": {"user": 500}},
        format="json",
        headers=internal,
    )

    assert (copied.status_code, moved.status_code) == (200, 200)
    assert User.objects.get(pk=500).password == OLD_HASH
    assert _register(api).json()["id"] > 500
    assert _login(api, "copied@example.com", "old-pass-1234").status_code == 200


@pytest.fixture
def admin_client(client):
    """A superuser of this service's admin, made while the service owns auth."""
    admin = User.objects.create_superuser(
        email="admin@example.com", password="admin-pass-1234", name="Admin"
    )
    client.force_login(admin)
    client.admin = admin
    return client


def test_while_the_monolith_owns_users_the_admin_adds_and_deletes_none_here(admin_client):
    set_ownership(domain="auth", owner="monolith", state="active")
    admin = admin_client.admin

    assert admin_client.get(f"/admin/accounts/user/{admin.pk}/change/").status_code == 200
    assert admin_client.get("/admin/accounts/user/add/").status_code == 403
    assert admin_client.get(f"/admin/accounts/user/{admin.pk}/delete/").status_code == 403


def test_while_the_monolith_owns_users_an_admin_change_is_saved_by_the_monolith(
    admin_client, monkeypatch
):
    received = []

    class Monolith(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            answer = b'{"id": 1, "changed": ["name"]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Monolith)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr("strangler.sync.admin.FOLLOW_SECONDS", 0.0)
    set_ownership(domain="auth", owner="monolith", state="active")
    admin = admin_client.admin
    recorded = OutboxEvent.objects.count()
    form = {
        "email": admin.email,
        "name": "Renamed on the copy",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-02",
        "date_joined_1": "03:04:05",
    }
    try:
        with override_settings(
            STRANGLER_BACKEND_URLS={"monolith": f"http://127.0.0.1:{server.server_port}"}
        ):
            response = admin_client.post(f"/admin/accounts/user/{admin.pk}/change/", form)
    finally:
        server.shutdown()
        server.server_close()

    assert response.status_code == 302
    assert [path for path, _ in received] == ["/internal/sync/aggregates/user/changes"]
    assert received[0][1]["id"] == admin.pk
    assert received[0][1]["fields"]["name"] == "Renamed on the copy"
    # Not written here: this copy follows the monolith's event.
    assert User.objects.get(pk=admin.pk).name == "Admin"
    assert OutboxEvent.objects.count() == recorded
