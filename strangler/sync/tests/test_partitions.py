import zlib

from strangler.sync import partitions


def test_every_subscriber_consumes_two_partitions_by_default(settings):
    del settings.STRANGLER_SYNC_PARTITIONS  # unset: the default applies
    assert partitions.count() == partitions.DEFAULT_PARTITIONS == 2
    assert partitions.queues("auth") == ["sync.auth.0", "sync.auth.1"]


def test_the_partition_count_is_a_setting(settings):
    settings.STRANGLER_SYNC_PARTITIONS = 4
    assert partitions.queues("monolith") == [f"sync.monolith.{n}" for n in range(4)]
    assert {partitions.of(str(n)) for n in range(100)} == {0, 1, 2, 3}


def test_a_key_always_lands_in_the_same_partition_in_every_process():
    # crc32, not hash(): Python salts str hashes per process, publishers and consumers differ.
    assert partitions.of("42", partitions=2) == zlib.crc32(b"42") % 2
    assert [partitions.of("42", partitions=7) for _ in range(3)] == [zlib.crc32(b"42") % 7] * 3
