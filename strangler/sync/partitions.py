"""Sync partitions: events of one partition key go to one queue, applied in order by one
consumer; different keys spread over `count()` queues and are applied in parallel."""

import zlib

from strangler.conf import strangler_settings

DEFAULT_PARTITIONS = 2


def count() -> int:
    """How many partitions every subscriber consumes. Publishers and consumers must agree, so
    the default lives here and a deployment that changes it changes it for every backend."""
    return int(strangler_settings.SYNC_PARTITIONS)


def of(partition_key: str, *, partitions: int | None = None) -> int:
    return zlib.crc32(partition_key.encode()) % (partitions or count())


def queue(backend: str, partition: int) -> str:
    return f"sync.{backend}.{partition}"


def queues(backend: str) -> list[str]:
    return [queue(backend, partition) for partition in range(count())]
