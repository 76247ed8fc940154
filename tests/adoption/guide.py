"""docs/adopting.md as the adoption test reads it: the files its code blocks write.

A block whose info string says `file=PATH` is the whole of PATH; `append=PATH` is added at the
end of PATH (a file `django-admin startproject` made). Paths are relative to the work folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "adopting.md"
_BLOCK = re.compile(r"^```\w+ (file|append)=(\S+)\n(.*?)^```$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    action: str  # "file" or "append"
    path: str
    text: str

    def write(self, root: Path) -> None:
        target = root / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.action == "file":
            target.write_text(self.text)
        else:
            target.write_text(target.read_text() + "\n" + self.text)


def blocks(text: str | None = None) -> list[Block]:
    text = GUIDE.read_text() if text is None else text
    return [Block(*match.groups()) for match in _BLOCK.finditer(text)]
