import threading

import pytest
from django.db import connection
from kombu import Connection
from kombu.exceptions import OperationalError as BrokerError

from accounts import services as accounts
from strangler.sync import relay
from strangler.sync.models import OutboxEvent


def _register_many(count: int) -> None:
    for n in range(count):
        accounts.register_user(email=f"user{n}@example.com", password="long-enough", name=f"U{n}")


@pytest.mark.django_db
def test_relay_publishes_to_each_subscriber_queue_and_marks_rows_sent(settings):
    settings.STRANGLER_SYNC_SUBSCRIBERS = {"user": ["relaytest"]}
    _register_many(2)
    from shop.celery import app

    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    ) as broker:
        queue = broker.SimpleQueue(relay.sync_queue("relaytest"))
        queue.clear()
        assert app.conf.broker_url  # the project's Celery app publishes
        assert relay.relay_batch() == 2
        received = [queue.get(timeout=5) for _ in range(2)]
        for message in received:
            message.ack()
        queue.close()
    bodies = [m.payload for m in received]
    assert {b[0][0]["aggregate_id"] for b in bodies} == {
        str(pk) for pk in OutboxEvent.objects.values_list("aggregate_id", flat=True)
    }
    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()
    assert relay.outbox_status().pending == 0


@pytest.mark.django_db
def test_rows_wait_in_the_outbox_while_the_broker_is_down_then_drain(monkeypatch):
    _register_many(3)

    def broker_down(event):
        raise BrokerError("connection refused")

    monkeypatch.setattr(relay, "publish", broker_down)
    with pytest.raises(BrokerError):
        relay.relay_batch()
    assert relay.outbox_status().pending == 3

    published = []
    monkeypatch.setattr(relay, "publish", published.append)
    assert relay.relay_batch() == 3
    assert relay.outbox_status().pending == 0
    assert len(published) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_never_publish_a_row_twice(monkeypatch):
    _register_many(60)
    published = []
    lock = threading.Lock()

    def record(event):
        with lock:
            published.append(event.event_id)

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
    assert len(published) == 60
    assert len(set(published)) == 60
