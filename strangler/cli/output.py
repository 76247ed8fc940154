"""How subcommands print: lines, aligned tables and one JSON object, to one writer.

The console script writes to sys.stdout; `./manage.py strangle` to the command's stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any


class Output:
    def __init__(self, write: Callable[[str], Any] | None = None) -> None:
        self._write = write or _stdout

    def line(self, text: str = "", *, ending: str = "\n") -> None:
        self._write(text + ending)

    def table(self, headers: list[str], rows: list[list[str]], right: Sequence[int] = ()) -> None:
        """Columns as wide as their widest cell, two spaces apart; `right` aligns numbers."""
        widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            cells = [
                str(cell).rjust(widths[i]) if i in right else str(cell).ljust(widths[i])
                for i, cell in enumerate(row)
            ]
            self.line(("  " + "  ".join(cells)).rstrip())

    def json(self, data: dict) -> None:
        """One JSON object on one line: what `--json` prints."""
        self.line(json.dumps(data))


def _stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def some_ids(ids: list[int], limit: int = 20) -> str:
    if not ids:
        return "none"
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (f", +{len(ids) - limit} more" if len(ids) > limit else "")
