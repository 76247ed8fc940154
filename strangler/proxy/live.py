"""What the installed nginx config serves, as data: var/strangler/live.json, beside the state.

The controller writes it atomically with every config it installs, so putting a previous
config back knows that config's step table and hashes without reading them out of nginx.conf.
`config` (the config's own hash) ties the record to the config text it describes: a record
left over from another config is not trusted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from strangler.proxy.admin import Live
from strangler.proxy.errors import ProxyError
from strangler.proxy.nginx import write_atomically
from strangler.proxy.tables import StepTable

FILE_NAME = "live.json"


def config_hash(config: str) -> str:
    return hashlib.sha256(config.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Installed:
    config: str  # config_hash of the nginx.conf it describes
    structure_hash: str
    table: StepTable

    @property
    def live(self) -> Live:
        return Live(step=self.table.step, table=self.table.hash, structure=self.structure_hash)

    def describes(self, config: str | None) -> bool:
        return config is not None and config_hash(config) == self.config


def load_installed(path: Path) -> Installed | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise ProxyError(f"cannot read {path}: {error}") from None
    try:
        return Installed(
            config=raw["config"],
            structure_hash=raw["structure_hash"],
            table=StepTable(raw["table"]),
        )
    except (KeyError, TypeError):
        raise ProxyError(f"cannot read {path}: not a record of an installed config") from None


def save_installed(path: Path, installed: Installed) -> None:
    record = {
        "config": installed.config,
        "structure_hash": installed.structure_hash,
        "table": installed.table.data,
    }
    write_atomically(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
