import threading
import uuid
from queue import Empty

import pytest
from django.db import connection
from django.utils import timezone
from kombu import Connection
from kombu.exceptions import OperationalError as BrokerError

from accounts import services as accounts
from accounts.models import User
from strangler.sync import partitions, relay
from strangler.sync.models import OutboxEvent
from strangler.sync.payloads import OutboxStatus


def _register_many(count: int) -> list[User]:
    return [
        accounts.register_user(email=f"user{n}@example.com", password="long-enough", name=f"U{n}")
        for n in range(count)
    ]


def _queue_of(event: OutboxEvent, backend: str) -> str:
    return partitions.queue(backend, partitions.of(event.partition_key or event.aggregate_id))


@pytest.fixture
def sent_tasks(monkeypatch):
    """What the relay hands Celery, without a broker: (task name, args, queue) per message."""
    sent = []

    def send_task(name, args=None, queue=None, **options):
        sent.append((name, args, queue))

    monkeypatch.setattr(relay.current_app, "send_task", send_task)
    return sent


def _outbox_event(aggregate_type: str, aggregate_id: str, *, partition_key: str) -> OutboxEvent:
    return OutboxEvent(
        event_id=uuid.uuid4(),
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        version=1,
        partition_key=partition_key,
        payload={},
        created_at=timezone.now(),
    )


@pytest.mark.django_db
def test_relay_publishes_one_message_per_subscriber_queue_and_marks_rows_sent(settings):
    settings.STRANGLER_SYNC_SUBSCRIBERS = {"user": ["relaytest"]}
    _register_many(4)
    events = list(OutboxEvent.objects.order_by("id"))
    expected = {}
    for event in events:
        expected.setdefault(_queue_of(event, "relaytest"), []).append(str(event.aggregate_id))
    from shop.celery import app

    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    ) as broker:
        queues = {name: broker.SimpleQueue(name) for name in partitions.queues("relaytest")}
        for queue in queues.values():
            queue.clear()
        assert app.conf.broker_url  # the project's Celery app publishes
        assert relay.relay_batch() == 4
        received = {}
        for name in expected:
            message = queues[name].get(timeout=5)
            message.ack()
            received[name] = message
        for queue in queues.values():
            with pytest.raises(Empty):  # one message per queue, none to a queue without events
                queue.get(timeout=0.2)
            queue.close()
    for name, message in received.items():
        assert message.headers["task"] == relay.APPLY_EVENTS_TASK
        (batch,), _kwargs, _embed = message.payload
        # The queue's events, in the order they were recorded.
        assert [m["aggregate_id"] for m in batch] == expected[name]
    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()
    assert relay.outbox_status().pending == 0


def test_events_of_one_partition_key_go_to_one_queue_in_the_order_recorded(settings, sent_tasks):
    settings.STRANGLER_SYNC_SUBSCRIBERS = {"user": ["a", "b"], "refresh_token": ["a"]}
    user = _outbox_event("user", "7", partition_key="7")
    tokens = [_outbox_event("refresh_token", str(n), partition_key="7") for n in (30, 31)]
    relay.publish([tokens[0], user, tokens[1]])

    by_queue = {queue: (name, args) for name, args, queue in sent_tasks}
    partition = partitions.of("7")
    assert set(by_queue) == {partitions.queue("a", partition), partitions.queue("b", partition)}
    name, (batch,) = by_queue[partitions.queue("a", partition)]
    assert name == relay.APPLY_EVENTS_TASK
    assert [(m["aggregate_type"], m["aggregate_id"]) for m in batch] == [
        ("refresh_token", "30"),
        ("user", "7"),
        ("refresh_token", "31"),
    ]
    _, (batch,) = by_queue[partitions.queue("b", partition)]
    assert [m["aggregate_id"] for m in batch] == ["7"]


def test_an_event_without_a_partition_key_is_partitioned_by_its_aggregate_id(settings, sent_tasks):
    settings.STRANGLER_SYNC_SUBSCRIBERS = {"user": ["a"]}
    relay.publish([_outbox_event("user", "12345", partition_key="")])
    assert [queue for _, _, queue in sent_tasks] == [partitions.queue("a", partitions.of("12345"))]


def test_nothing_to_publish_sends_no_message(sent_tasks):
    relay.publish([])
    assert sent_tasks == []


@pytest.mark.django_db
def test_refresh_tokens_are_recorded_with_their_users_partition_key():
    (customer,) = _register_many(1)
    accounts.obtain_token_pair(email="user0@example.com", password="long-enough")
    token_event = OutboxEvent.objects.filter(aggregate_type="refresh_token").get()
    user_event = OutboxEvent.objects.filter(aggregate_type="user").get()
    assert token_event.partition_key == user_event.partition_key == str(customer.pk)


@pytest.mark.django_db
def test_rows_wait_in_the_outbox_while_the_broker_is_down_then_drain(monkeypatch):
    _register_many(3)

    def broker_down(events):
        raise BrokerError("connection refused")

    monkeypatch.setattr(relay, "publish", broker_down)
    with pytest.raises(BrokerError):
        relay.relay_batch()
    assert relay.outbox_status().pending == 3

    published = []
    monkeypatch.setattr(relay, "publish", published.extend)
    assert relay.relay_batch() == 3
    assert relay.outbox_status().pending == 0
    assert len(published) == 3


@pytest.mark.django_db
def test_a_batch_publishes_at_most_its_limit_oldest_first(monkeypatch):
    _register_many(3)
    published = []
    monkeypatch.setattr(relay, "publish", published.extend)
    assert relay.relay_batch(limit=2) == 2
    assert relay.relay_batch(limit=2) == 1
    assert relay.relay_batch(limit=2) == 0
    assert [e.id for e in published] == sorted(e.id for e in published)


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_publish_every_row_and_never_twice_where_rows_are_claimed(monkeypatch):
    _register_many(60)
    published = []
    lock = threading.Lock()

    def record(events):
        with lock:
            published.extend(event.event_id for event in events)

    monkeypatch.setattr(relay, "publish", record)
    errors = []

    def run():
        try:
            while relay.relay_batch(limit=7):
                pass
        except Exception as exc:  # surfaced below: a failing relay must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(set(published)) == 60
    assert relay.outbox_status().pending == 0
    if connection.features.has_select_for_update_skip_locked:
        # PostgreSQL: rows are claimed with SKIP LOCKED, so no row goes out twice. (SQLite
        # runs one relay per backend; a row two relays published is deduplicated downstream.)
        assert len(published) == 60


@pytest.mark.django_db
def test_the_outbox_status_counts_pending_rows_and_names_the_last_id(monkeypatch):
    assert relay.outbox_status() == OutboxStatus(
        pending=0, oldest_pending_age_seconds=None, last_id=0
    )
    _register_many(2)
    status = relay.outbox_status()
    assert status.pending == 2
    assert status.oldest_pending_age_seconds >= 0
    assert status.last_id == OutboxEvent.objects.latest("id").id

    monkeypatch.setattr(relay, "publish", lambda events: None)
    relay.relay_batch()
    assert relay.outbox_status().pending == 0
    assert relay.outbox_status().last_id == status.last_id


@pytest.mark.django_db
def test_the_watermark_holds_the_last_version_of_each_aggregate_changed_after_a_position():
    first, second = _register_many(2)
    position = OutboxEvent.objects.get(aggregate_id=str(first.pk)).id
    first.name, second.name = "First, renamed", "Second, renamed"
    first.save()
    first.save()
    second.save()

    assert relay.watermark(domain="auth", after_id=position) == {
        "user": {str(first.pk): 3, str(second.pk): 2},
        "refresh_token": {},
    }
    assert relay.watermark(domain="auth", after_id=relay.outbox_status().last_id) == {
        "user": {},
        "refresh_token": {},
    }
    assert relay.watermark(domain="reviews", after_id=0) == {}
