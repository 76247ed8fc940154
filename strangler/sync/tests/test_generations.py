"""A domain's generation moves in the transaction of every change of the domain, on the owner
and on a copy, and only for the domains a backend caches reads of."""

import uuid

import pytest
from django.db import transaction

from accounts import services as accounts
from accounts.models import User
from strangler.sync import registry
from strangler.sync.consumer import Event, apply_events, overwrite, store
from strangler.sync.generations import changed, current
from strangler.sync.models import DomainGeneration
from strangler.sync.states import EventOutcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth_is_cached(settings):
    settings.STRANGLER_READ_CACHE_DOMAINS = ("auth",)


def _register(email="ann@example.com") -> User:
    return accounts.register_user(email=email, password="ann-pass-1234", name="Ann")


def _user_row(user_id: int, version: int, name: str = "Copied") -> dict:
    return {
        "id": user_id,
        "version": version,
        "payload": {
            "email": f"user{user_id}@example.com",
            "name": name,
            "password": "pbkdf2_sha256$1$salt$hash",
            "is_staff": False,
            "is_superuser": False,
            "is_active": True,
            "date_joined": "2026-01-02T03:04:05.000006Z",
        },
    }


def _event(user_id: int, version: int) -> Event:
    row = _user_row(user_id, version)
    return Event(
        event_id=str(uuid.uuid4()),
        source="auth",
        aggregate_type="user",
        aggregate_id=str(user_id),
        version=version,
        payload=row["payload"],
        deleted=False,
    )


def test_a_generation_starts_at_zero_with_an_epoch_of_its_own():
    first = current("auth")
    DomainGeneration.objects.all().delete()
    second = current("auth")

    assert (first.value, second.value) == (0, 0)
    assert len(first.epoch) == 32
    assert first.epoch != second.epoch


def test_a_backend_that_caches_nothing_counts_nothing():
    _register()

    assert not DomainGeneration.objects.exists()


def test_every_write_on_the_owner_moves_the_generation(auth_is_cached):
    user = _register()
    after_registering = current("auth").value
    user.name = "Ann B."
    user.save()

    assert after_registering == 1
    assert current("auth").value == 2


def test_a_write_rolled_back_leaves_the_generation_where_it_was(auth_is_cached):
    before = current("auth")

    with pytest.raises(RuntimeError), transaction.atomic():
        _register()
        raise RuntimeError("the request failed after the write")

    assert current("auth") == before


def test_applied_events_move_the_generation_and_stale_ones_do_not(auth_is_cached):
    applied = apply_events([_event(4242, 2), _event(4243, 1)])
    after_applying = current("auth").value

    stale = apply_events([_event(4242, 1)])

    assert set(applied.values()) == {EventOutcome.APPLIED}
    assert set(stale.values()) == {EventOutcome.STALE}
    assert after_applying == 1  # one batch, one transaction
    assert current("auth").value == after_applying


def test_rows_stored_by_a_backfill_or_a_read_through_move_it(auth_is_cached):
    store(registry.by_name("user"), [_user_row(7, 1)])

    assert current("auth").value == 1


def test_a_repair_moves_it_even_when_it_only_deletes(auth_is_cached):
    store(registry.by_name("user"), [_user_row(7, 1)])
    overwrite(registry.by_name("user"), rows=[], delete=[7])

    assert not User.objects.filter(pk=7).exists()
    assert current("auth").value == 2


def test_other_domains_keep_their_own_generation(auth_is_cached, settings):
    settings.STRANGLER_READ_CACHE_DOMAINS = ("auth", "catalog")
    _register()

    assert current("catalog").value == 0


@pytest.mark.django_db(transaction=True)
def test_a_generation_moves_only_inside_the_change_transaction(auth_is_cached):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        changed("auth")


@pytest.fixture
def kept_connection_unchecked():
    """A kept connection at the start of a request with health checks on (as on PostgreSQL):
    not checked yet."""
    from django.db import connection

    connection.ensure_connection()
    enabled, connection.health_check_enabled = connection.health_check_enabled, True
    connection.health_check_done = False
    yield connection
    connection.health_check_enabled = enabled


@pytest.mark.django_db(transaction=True)
def test_the_generation_read_is_the_requests_health_check(kept_connection_unchecked):
    current("catalog")

    assert kept_connection_unchecked.health_check_done


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_since_the_last_request_is_replaced(kept_connection_unchecked):
    dead = kept_connection_unchecked.connection
    dead.close()

    generation = current("catalog")

    assert generation.value == 0
    assert kept_connection_unchecked.connection is not dead
