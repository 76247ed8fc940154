"""Per-range counts and checksums of an aggregate, computed by a backend over its own copy.

Rows are read as plain value tuples (no model instances) and put in one canonical text form,
the same on every backend whatever its database: a million rows take seconds, not minutes.
"""

import hashlib
import json
from collections.abc import Iterator

from . import registry
from .payloads import DEFAULT_CHUNK

_FETCH = 10_000


def _canonical(aggregate_id: int, payload: dict) -> bytes:
    return json.dumps([aggregate_id, payload], sort_keys=True, separators=(",", ":")).encode()


def row_hash(aggregate_id: int, payload: dict) -> str:
    return hashlib.sha256(_canonical(aggregate_id, payload)).hexdigest()


def _rows(aggregate: registry.Aggregate, start: int, end: int) -> Iterator[tuple[int, dict]]:
    rows = (
        aggregate.model._default_manager.filter(pk__gte=start, pk__lt=end)
        .order_by("pk")
        .values_list("pk", *aggregate.attnames)
    )
    for pk, *values in rows.iterator(chunk_size=_FETCH):
        yield pk, aggregate.payload_from_values(values)


def range_hashes(aggregate: registry.Aggregate, *, start: int, end: int) -> dict[int, str]:
    return {pk: row_hash(pk, payload) for pk, payload in _rows(aggregate, start, end)}


def chunk_checksums(aggregate: registry.Aggregate, *, chunk: int = DEFAULT_CHUNK) -> list[dict]:
    """Counts and checksums of ids [0, chunk), [chunk, 2*chunk), ... up to the highest id."""
    chunks: list[dict] = []
    current_start, count, digest = None, 0, hashlib.sha256()
    for pk, payload in _rows(aggregate, 0, 2**63 - 1):
        start = pk // chunk * chunk
        if start != current_start:
            if current_start is not None:
                chunks.append(_chunk(current_start, chunk, count, digest))
            current_start, count, digest = start, 0, hashlib.sha256()
        digest.update(_canonical(pk, payload))
        digest.update(b"\n")
        count += 1
    if current_start is not None:
        chunks.append(_chunk(current_start, chunk, count, digest))
    return chunks


def _chunk(start: int, size: int, count: int, digest) -> dict:
    return {"start": start, "end": start + size, "count": count, "checksum": digest.hexdigest()}
