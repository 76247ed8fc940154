"""Bulk copy of a domain's aggregates from one backend to another, keeping ids.

Resumable: the last id copied per aggregate is checkpointed in a file (written atomically), and
upserts are idempotent, so an interrupted run continues where it stopped. Afterwards the
target's id sequences are moved past the copied ids.
"""

import json
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from strangler.service.secret_files import replace_private

from .client import BackendSync
from .payloads import RowsPage

STORES_IN_FLIGHT = 2


@dataclass(frozen=True)
class BackfillResult:
    copied: dict[str, int]
    sequences: dict[str, int]


def _load_checkpoint(path: Path) -> dict[str, int]:
    if path.exists():
        return {k: int(v) for k, v in json.loads(path.read_text()).items()}
    return {}


def _save_checkpoint(path: Path, checkpoint: dict[str, int]) -> None:
    # Private: it sits in var/strangler beside the forced-rollback journals.
    replace_private(path, json.dumps(checkpoint).encode())


def _pages(source: BackendSync, aggregate: str, *, after: int, batch: int) -> Iterator[RowsPage]:
    """Pages of rows read ahead in a thread: the source reads the next page while the target
    stores this one."""
    pages: queue.Queue = queue.Queue(maxsize=2)

    def read() -> None:
        try:
            cursor = after
            while True:
                page = source.page(aggregate, after=cursor, limit=batch)
                if page.count:
                    pages.put(page)
                    cursor = page.last_id
                if page.next_after is None:
                    break
            pages.put(None)
        except Exception as error:  # handed to the reader below, raised there
            pages.put(error)

    threading.Thread(target=read, daemon=True).start()
    while (page := pages.get()) is not None:
        if isinstance(page, Exception):
            raise page
        yield page


def _finish(entry, aggregate: str, checkpoint: dict[str, int], checkpoint_file: Path) -> int:
    page, stored = entry
    stored.result()  # a failed store raises here, before the checkpoint passes it
    checkpoint[aggregate] = page.last_id
    _save_checkpoint(checkpoint_file, checkpoint)
    return page.count


def backfill(
    *,
    domain: str,
    aggregates: list[str],
    source: BackendSync,
    target: BackendSync,
    checkpoint_file: Path,
    batch: int = 10_000,
    id_gap: int = 0,
    on_progress: Callable[[str, int, int], None] = lambda aggregate, copied, total: None,
) -> BackfillResult:
    checkpoint = _load_checkpoint(checkpoint_file)
    source_status = source.status().aggregates
    copied: dict[str, int] = {}
    for aggregate in aggregates:
        total = source_status[aggregate].count
        done = 0
        # Pages are stored STORES_IN_FLIGHT at a time (the target's workers store in parallel);
        # the checkpoint only ever moves past pages stored completely, in order.
        with ThreadPoolExecutor(max_workers=STORES_IN_FLIGHT) as pool:
            in_flight: deque = deque()
            pages = _pages(source, aggregate, after=checkpoint.get(aggregate, 0), batch=batch)
            for page in pages:
                in_flight.append((page, pool.submit(target.store_page, aggregate, page)))
                while in_flight and (len(in_flight) >= STORES_IN_FLIGHT or in_flight[0][1].done()):
                    done += _finish(in_flight.popleft(), aggregate, checkpoint, checkpoint_file)
                    on_progress(aggregate, done, total)
            while in_flight:
                done += _finish(in_flight.popleft(), aggregate, checkpoint, checkpoint_file)
                on_progress(aggregate, done, total)
        copied[aggregate] = done
    floors = {name: source_status[name].max_id for name in aggregates}
    moved = target.move_sequences(domain, floor=floors, gap=id_gap, backfilled=True).moved
    checkpoint_file.unlink(missing_ok=True)
    return BackfillResult(copied=copied, sequences=moved)
