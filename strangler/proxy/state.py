"""The durable record of which step is live and how it got there: var/strangler/state.json.

Written atomically (temp file, fsync, rename), so a crash mid-write leaves the previous record.
`stack` holds the steps to roll back to, most recent last; `history` every change, bounded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from strangler.proxy.errors import ProxyError
from strangler.proxy.nginx import write_atomically

HISTORY_LIMIT = 500


@dataclass
class State:
    step: str | None = None
    table_hash: str | None = None
    structure_hash: str | None = None
    stack: list[str] = field(default_factory=list)
    history: list[dict[str, str | None]] = field(default_factory=list)

    def record(
        self, *, action: str, step: str, table_hash: str, structure_hash: str, mode: str
    ) -> None:
        previous = self.step
        if action == "apply" and previous and previous != step:
            self.stack.append(previous)
        elif action == "rollback" and self.stack:
            self.stack.pop()
        self.history.append(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "action": action,
                "from": previous,
                "to": step,
                "table": table_hash,
                "structure": structure_hash,
                "mode": mode,
            }
        )
        del self.history[:-HISTORY_LIMIT]
        self.step, self.table_hash, self.structure_hash = step, table_hash, structure_hash


def load_state(path: Path) -> State:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return State()
    except (OSError, ValueError) as error:
        raise ProxyError(f"cannot read {path}: {error}") from None
    if not isinstance(raw, dict):
        raise ProxyError(f"cannot read {path}: not a JSON object")
    known = {name: raw[name] for name in State.__dataclass_fields__ if name in raw}
    return State(**known)


def save_state(path: Path, state: State) -> None:
    write_atomically(path, json.dumps(asdict(state), indent=2) + "\n")
