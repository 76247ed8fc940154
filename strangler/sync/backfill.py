"""Bulk copy of a domain's aggregates from one backend to another, keeping ids.

Resumable: the last id copied per aggregate is checkpointed in a file (written atomically), and
upserts are idempotent, so an interrupted run continues where it stopped. Afterwards the
target's id sequences are moved past the copied ids.
"""

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .client import BackendSync


@dataclass(frozen=True)
class BackfillResult:
    copied: dict[str, int]
    sequences: dict[str, int]


def _load_checkpoint(path: Path) -> dict[str, int]:
    if path.exists():
        return {k: int(v) for k, v in json.loads(path.read_text()).items()}
    return {}


def _save_checkpoint(path: Path, checkpoint: dict[str, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".backfill-")
    with os.fdopen(fd, "w") as handle:
        json.dump(checkpoint, handle)
    os.replace(temporary, path)


def backfill(
    *,
    domain: str,
    aggregates: list[str],
    source: BackendSync,
    target: BackendSync,
    checkpoint_file: Path,
    batch: int = 1000,
    id_gap: int = 0,
    on_progress: Callable[[str, int, int], None] = lambda aggregate, copied, total: None,
) -> BackfillResult:
    checkpoint = _load_checkpoint(checkpoint_file)
    source_status = source.status()["aggregates"]
    copied: dict[str, int] = {}
    for aggregate in aggregates:
        total = source_status[aggregate]["count"]
        after = checkpoint.get(aggregate, 0)
        done = 0
        while True:
            page = source.rows(aggregate, after=after, limit=batch)
            if page["rows"]:
                target.upsert(aggregate, page["rows"])
                done += len(page["rows"])
                after = page["rows"][-1]["id"]
                checkpoint[aggregate] = after
                _save_checkpoint(checkpoint_file, checkpoint)
                on_progress(aggregate, done, total)
            if page["next_after"] is None:
                break
        copied[aggregate] = done
    floors = {name: source_status[name]["max_id"] for name in aggregates}
    moved = target.move_sequences(domain, floor=floors, gap=id_gap)["moved"]
    checkpoint_file.unlink(missing_ok=True)
    return BackfillResult(copied=copied, sequences=moved)
