"""Per-range counts and checksums of an aggregate, computed by a backend over its own copy."""

import hashlib
import json

from . import registry

DEFAULT_CHUNK = 1000


def row_hash(aggregate_id: int, payload: dict) -> str:
    canonical = json.dumps([aggregate_id, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _rows(aggregate: registry.Aggregate, start: int, end: int):
    queryset = aggregate.model._default_manager.filter(pk__gte=start, pk__lt=end).order_by("pk")
    for instance in queryset.iterator(chunk_size=2000):
        yield instance.pk, aggregate.payload(instance)


def range_hashes(aggregate: registry.Aggregate, *, start: int, end: int) -> dict[int, str]:
    return {pk: row_hash(pk, payload) for pk, payload in _rows(aggregate, start, end)}


def chunk_checksums(aggregate: registry.Aggregate, *, chunk: int = DEFAULT_CHUNK) -> list[dict]:
    """Counts and checksums of ids [0, chunk), [chunk, 2*chunk), ... up to the highest id."""
    chunks: dict[int, tuple[int, hashlib._Hash]] = {}
    for pk, payload in _rows(aggregate, 0, 2**63 - 1):
        start = pk // chunk * chunk
        count, digest = chunks.get(start, (0, hashlib.sha256()))
        digest.update(row_hash(pk, payload).encode())
        chunks[start] = (count + 1, digest)
    return [
        {"start": start, "end": start + chunk, "count": count, "checksum": digest.hexdigest()}
        for start, (count, digest) in sorted(chunks.items())
    ]
