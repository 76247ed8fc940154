"""A test shop's sync queues start empty: messages an earlier test left in a shared broker (its
backends stopped before consuming them) would otherwise be applied to this test's databases."""

from __future__ import annotations

from kombu import Connection

from strangler.sync import partitions


def empty_sync_queues(broker_url: str, backends: list[str]) -> None:
    if broker_url.startswith("filesystem://"):
        return  # a filesystem broker lives in the test's own folder
    with Connection(broker_url) as connection:
        for backend in backends:
            for name in partitions.queues(backend):
                queue = connection.SimpleQueue(name)
                queue.clear()
                queue.close()
