"""Secrets kept in files under var/ in development: created once, readable by their owner only."""

import contextlib
import os
import tempfile
from pathlib import Path


def write_once(path: Path, content: bytes) -> None:
    """Writes `path` unless it exists, even when several processes race to create it at first
    start: each writes a private temporary file and links it into place, so the first link wins
    and nobody ever reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content)
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
