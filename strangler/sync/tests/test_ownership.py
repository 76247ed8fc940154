import json
import threading
import time

import pytest
from django.db import connection, transaction

from accounts import services as accounts
from accounts.models import User
from strangler.sync.models import DomainOwnership
from strangler.sync.ownership import (
    NotOwner,
    check_ownership,
    require_ownership,
    set_ownership,
)
from strangler.sync.sequences import move_sequence_past
from strangler.sync.states import OwnershipState

pytestmark = pytest.mark.django_db
REGISTRATION = {"email": "new@example.com", "password": "long-enough", "name": "New"}


@pytest.fixture
def owner_backend(fake_auth_backend):
    """The domain's new owner; records what reaches it."""
    received = []

    def answer(method, path, headers, body):
        received.append((path, headers, json.loads(body)))
        return 201, {"served_by": "owner"}

    fake_auth_backend(answer)
    return received


def test_the_monolith_owns_auth_until_told_otherwise():
    require_ownership("auth")
    set_ownership(domain="auth", owner="auth", state="active")
    with pytest.raises(NotOwner):
        require_ownership("auth")


def test_a_write_refused_for_ownership_changes_nothing():
    set_ownership(domain="auth", owner="auth", state="active")
    with pytest.raises(NotOwner):
        accounts.register_user(**REGISTRATION)
    assert not User.objects.exists()


def test_a_write_reaching_a_former_owner_is_forwarded_to_the_owner(api, owner_backend):
    set_ownership(domain="auth", owner="auth", state="active")
    response = api.post(
        "/api/auth/register", REGISTRATION, format="json", HTTP_X_REQUEST_ID="req-forward-1"
    )
    assert response.status_code == 201
    assert response.json() == {"served_by": "owner"}
    path, headers, body = owner_backend[0]
    assert path == "/api/auth/register"
    assert body == REGISTRATION
    assert headers["X-Strangler-Forwarded-By"] == "monolith"
    assert headers["X-Request-ID"] == "req-forward-1"
    assert not User.objects.exists()


def test_a_write_that_comes_back_to_a_backend_it_left_is_not_forwarded_again(api, owner_backend):
    set_ownership(domain="auth", owner="auth", state="active")
    response = api.post(
        "/api/auth/register",
        REGISTRATION,
        format="json",
        HTTP_X_STRANGLER_FORWARDED_BY="monolith,auth",
    )
    assert response.status_code == 503
    assert owner_backend == []


def test_a_write_forwarded_to_the_old_owner_during_a_flip_goes_on_to_the_new_one(
    api, owner_backend
):
    set_ownership(domain="auth", owner="auth", state="active")
    response = api.post(
        "/api/auth/register", REGISTRATION, format="json", HTTP_X_STRANGLER_FORWARDED_BY="auth"
    )
    assert response.status_code == 201
    assert owner_backend[0][1]["X-Strangler-Forwarded-By"] == "auth,monolith"


@pytest.mark.django_db(transaction=True)
def test_a_write_during_a_handover_waits_and_then_goes_to_the_new_owner(
    api, owner_backend, settings
):
    settings.STRANGLER_HANDOVER_WAIT_SECONDS = 10
    set_ownership(domain="auth", owner="monolith", state=OwnershipState.HANDOVER)

    def finish_handover():
        DomainOwnership.objects.filter(domain="auth").update(owner="auth", state="active")
        connection.close()

    timer = threading.Timer(0.3, finish_handover)
    timer.start()
    response = api.post("/api/auth/register", REGISTRATION, format="json")
    timer.join()
    assert response.status_code == 201
    assert len(owner_backend) == 1


def test_a_handover_that_never_ends_answers_503_with_retry_after(api, settings):
    settings.STRANGLER_HANDOVER_WAIT_SECONDS = 0.2
    set_ownership(domain="auth", owner="monolith", state=OwnershipState.HANDOVER)
    response = api.post("/api/auth/register", REGISTRATION, format="json")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"


def test_moving_the_sequence_makes_new_ids_start_past_the_floor():
    move_sequence_past(User, 50_000)
    user = accounts.register_user(**REGISTRATION)
    assert user.pk > 50_000
    # never backwards
    move_sequence_past(User, 10)
    assert accounts.register_user(**{**REGISTRATION, "email": "b@example.com"}).pk == user.pk + 1


@pytest.fixture
def owner_with_user(fake_auth_backend):
    """The auth owner's /internal/sync/ rows endpoint, holding user 7001 only."""
    row = {
        "id": 7001,
        "version": 3,
        "payload": {
            "email": "fresh@example.com",
            "name": "Fresh",
            "password": "md5$salt$hash",
            "is_staff": False,
            "is_superuser": False,
            "is_active": True,
            "date_joined": "2026-11-29T05:00:00Z",
        },
    }
    fake_auth_backend(
        lambda method, path, headers, body: (
            200,
            {"rows": [row] if "ids=7001" in path else [], "next_after": None},
        )
    )
    return row


def test_a_token_of_a_user_not_yet_copied_here_is_accepted_by_reading_through(api, owner_with_user):
    from strangler.service.tokens import issue_access_token
    from strangler.sync.consumer import Event, apply_event

    set_ownership(domain="auth", owner="auth", state="active")
    token = issue_access_token(user_id=7001, email="fresh@example.com", is_staff=False)
    response = api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["email"] == "fresh@example.com"
    # The event that arrives afterwards is recognised as no newer than the row read through.
    late = Event(
        event_id="00000000-0000-0000-0000-000000007001",
        source="auth",
        aggregate_type="user",
        aggregate_id="7001",
        version=3,
        payload=owner_with_user["payload"],
        deleted=False,
    )
    assert apply_event(late) == "stale"


def test_a_token_of_a_user_the_owner_does_not_have_either_is_401(api, owner_with_user):
    from strangler.service.tokens import issue_access_token

    set_ownership(domain="auth", owner="auth", state="active")
    token = issue_access_token(user_id=9999, email="ghost@example.com", is_staff=False)
    assert api.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_forwarded_write_carries_its_deadline_to_the_owner(api, owner_backend, settings):
    settings.STRANGLER_HANDOVER_WAIT_SECONDS = 10
    set_ownership(domain="auth", owner="auth", state="active")
    before = time.time()

    api.post("/api/auth/register", REGISTRATION, format="json")

    deadline = float(owner_backend[0][1]["X-Strangler-Deadline"])
    assert before + 9 < deadline <= time.time() + 10


def test_a_forwarded_write_keeps_the_deadline_of_the_first_backend_that_saw_it(
    api, owner_backend, settings
):
    settings.STRANGLER_HANDOVER_WAIT_SECONDS = 10
    set_ownership(domain="auth", owner="auth", state="active")
    first_deadline = f"{time.time() + 2:.3f}"

    api.post(
        "/api/auth/register",
        REGISTRATION,
        format="json",
        HTTP_X_STRANGLER_DEADLINE=first_deadline,
        HTTP_X_STRANGLER_FORWARDED_BY="elsewhere",
    )

    assert owner_backend[0][1]["X-Strangler-Deadline"] == first_deadline


def test_a_write_whose_deadline_has_passed_is_not_started(api, owner_backend):
    response = api.post(
        "/api/auth/register",
        REGISTRATION,
        format="json",
        HTTP_X_STRANGLER_DEADLINE=f"{time.time() - 1:.3f}",
    )

    assert response.status_code == 503
    assert not User.objects.exists()
    assert owner_backend == []


def test_the_cheap_ownership_look_refuses_during_a_handover_as_the_write_would():
    check_ownership("auth")
    set_ownership(domain="auth", owner="monolith", state=OwnershipState.HANDOVER)

    with pytest.raises(NotOwner, match="monolith does, handover"):
        check_ownership("auth")


@transaction.atomic
def _write_auth() -> None:
    require_ownership("auth")
    require_ownership("auth")  # the transaction's second check is its first one's


@pytest.mark.django_db(transaction=True)
def test_each_transaction_of_a_decorated_write_checks_the_owner_again():
    _write_auth()
    # Another process hands auth over (its set_ownership cannot clear this thread's memory).
    DomainOwnership.objects.filter(domain="auth").update(owner="auth")

    with pytest.raises(NotOwner, match="auth does"):
        _write_auth()
