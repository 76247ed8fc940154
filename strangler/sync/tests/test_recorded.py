"""Synced models record their own changes: exercised on the monolith's users and tokens."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import RefreshToken, User
from strangler.sync.models import OutboxEvent
from strangler.sync.outbox import applying_event
from strangler.sync.ownership import NotOwner, set_ownership
from strangler.sync.recorded import UnrecordedWrite

pytestmark = pytest.mark.django_db


@pytest.fixture
def user() -> User:
    user = User(email="ann@example.com", name="Ann")
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def token(user) -> RefreshToken:
    token = RefreshToken(
        user=user,
        token_hash=uuid.uuid4().hex,
        family=uuid.uuid4(),
        expires_at=timezone.now() + timedelta(days=1),
    )
    token.save()
    return token


def _as_a_copy() -> None:
    set_ownership(domain="auth", owner="auth", state="active")


def test_a_save_records_the_instance_with_its_partition_key(user, token):
    user_event, token_event = OutboxEvent.objects.order_by("id")
    assert (user_event.aggregate_type, user_event.aggregate_id) == ("user", str(user.pk))
    assert (token_event.aggregate_type, token_event.aggregate_id) == (
        "refresh_token",
        str(token.pk),
    )
    assert token_event.partition_key == user_event.partition_key == str(user.pk)


def test_a_delete_records_a_deletion(user):
    pk = user.pk
    user.delete()

    event = OutboxEvent.objects.latest("id")
    assert (event.aggregate_id, event.version, event.deleted) == (str(pk), 2, True)
    assert event.payload is None


def test_a_save_of_fields_no_copy_holds_stays_local(user):
    _as_a_copy()  # a login on a copy updates last_login there: allowed, nothing to tell

    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])

    assert OutboxEvent.objects.count() == 1


def test_a_save_of_copied_fields_is_recorded_even_when_named_one_by_one(user):
    user.name = "Ann B."
    user.save(update_fields=["name", "last_login"])

    assert OutboxEvent.objects.latest("id").payload["name"] == "Ann B."


@pytest.mark.parametrize("write", ["save", "delete"])
def test_a_copy_refuses_a_write_and_records_nothing(user, write):
    _as_a_copy()
    user.name = "Changed on the copy"

    with pytest.raises(NotOwner, match="monolith does not own the writes of auth"):
        getattr(user, write)()

    assert User.objects.get(pk=user.pk).name == "Ann"
    assert OutboxEvent.objects.count() == 1


def test_a_save_that_fails_leaves_no_event(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="ANN@example.com", name="Twin", password="!").save()

    assert OutboxEvent.objects.count() == 1


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: User.objects.update(name="X"), id="update"),
        pytest.param(lambda: User.objects.filter(name="Ann").delete(), id="delete"),
        pytest.param(
            lambda: User.objects.bulk_create([User(email="b@example.com", name="B")]),
            id="bulk_create",
        ),
        pytest.param(
            lambda: User.objects.bulk_update(list(User.objects.all()), ["name"]),
            id="bulk_update",
        ),
        pytest.param(
            lambda: RefreshToken.objects.update(revoked_at=timezone.now()), id="token-update"
        ),
    ],
)
def test_bulk_writes_of_a_synced_model_are_refused(user, token, write):
    with pytest.raises(UnrecordedWrite, match="would skip the sync outbox"):
        write()

    assert User.objects.get(pk=user.pk).name == "Ann"
    assert RefreshToken.objects.get(pk=token.pk).revoked_at is None


def test_bulk_writes_are_allowed_when_applying_an_event_and_record_nothing(user):
    _as_a_copy()
    with applying_event():
        User.objects.filter(pk=user.pk).update(name="From the owner")
        User(email="b@example.com", name="B", password="!").save()

    assert User.objects.get(pk=user.pk).name == "From the owner"
    assert User.objects.filter(email="b@example.com").exists()
    assert OutboxEvent.objects.count() == 1


def test_models_that_are_not_synced_write_in_bulk_as_usual(user, make_product):
    from reviews.models import Review

    Review.objects.create(user=user, product=make_product(), rating=3, title="T", body="B")
    assert Review.objects.update(rating=4) == 1


def test_test_rows_are_the_owners_writes_on_the_owner_and_the_syncs_on_a_copy():
    from strangler.sync.testing import written_here

    with written_here(User):
        User.objects.create_user(email="owner@example.com", password="x-long-enough", name="O")
    _as_a_copy()
    with written_here(User):
        User.objects.create_user(email="copy@example.com", password="x-long-enough", name="C")

    assert User.objects.filter(email__in=["owner@example.com", "copy@example.com"]).count() == 2
    assert OutboxEvent.objects.filter(aggregate_type="user").count() == 1
