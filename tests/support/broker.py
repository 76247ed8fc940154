"""The broker of a test shop: the suite's own server (CELERY_BROKER_URL), on a Redis database of
the test's own, with its sync queues emptied first."""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit, urlunsplit

from kombu import Connection

from strangler.sync import partitions

# kombu's Redis transport keeps the messages a consumer took and has not acknowledged here, until
# they are restored to their queue (see strangler.service.config.redis_broker_options).
REDIS_UNACKED_KEY = "unacked"
REDIS_UNACKED_INDEX_KEY = "unacked_index"


def shop_broker_url(*, redis_db: int, default: str = "filesystem://") -> str:
    """The suite's broker; on Redis, the database `redis_db` unless SHOP_TEST_REDIS_DB names
    another (engineers sharing a Redis server each take one). A test shop needs a database of its
    own: the consumers of a running shop (`make up`) on the same database would take its messages.
    `default` when the suite configures no broker."""
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if not configured or configured.startswith("filesystem://"):
        return default
    parts = urlsplit(configured)
    if parts.scheme not in ("redis", "rediss"):
        return configured
    database = os.environ.get("SHOP_TEST_REDIS_DB") or str(redis_db)
    return urlunsplit(parts._replace(path=f"/{database}"))


def empty_sync_queues(broker_url: str, backends: list[str]) -> None:
    """A test shop's sync queues start empty: messages an earlier test left in a shared broker
    (its backends stopped before consuming them, or a consumer killed while applying them) would
    otherwise be applied to this test's databases."""
    if broker_url.startswith("filesystem://"):
        return  # a filesystem broker lives in the test's own folder
    queues = {name for backend in backends for name in partitions.queues(backend)}
    with Connection(broker_url) as connection:
        for name in queues:
            queue = connection.SimpleQueue(name)
            queue.clear()
            queue.close()
        if urlsplit(broker_url).scheme in ("redis", "rediss"):
            _drop_unacknowledged(connection, queues)


def _unacknowledged_tags(connection: Connection, queues: set[str]) -> list[str]:
    """The delivery tags of the messages of `queues` that consumers took and did not acknowledge
    (kombu's Redis transport keeps them until they are acknowledged or restored)."""
    client = connection.default_channel.client
    tags = []
    for tag, raw in client.hgetall(REDIS_UNACKED_KEY).items():
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key in queues:
            tags.append(tag)
    return tags


def _drop_unacknowledged(connection: Connection, queues: set[str]) -> None:
    """Messages of `queues` taken by a consumer that died: Redis would hand them back to this
    test's consumers once their visibility timeout passes."""
    client = connection.default_channel.client
    for tag in _unacknowledged_tags(connection, queues):
        client.hdel(REDIS_UNACKED_KEY, tag)
        client.zrem(REDIS_UNACKED_INDEX_KEY, tag)


def sync_messages_held(broker_url: str, backend: str) -> int:
    """The messages for `backend`'s sync consumers that a Redis broker holds: waiting in their
    queues, or taken by a consumer and not acknowledged yet."""
    queues = set(partitions.queues(backend))
    with Connection(broker_url) as connection:
        client = connection.default_channel.client
        waiting = sum(client.llen(name) for name in queues)
        return waiting + len(_unacknowledged_tags(connection, queues))
