"""Files under var/ that hold secrets or what gives them away (keys, tokens, password hashes in a
SQLite database, the rows a forced rollback may have lost): readable by their owner only, in
folders only their owner may list."""

import contextlib
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def private_directory(path: Path) -> None:
    """Creates `path` (its parents as usual) for its owner only. An existing folder keeps its
    mode: it may be one shared on purpose (a key file put in /tmp), and what is written in it
    here is private anyway."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.mkdir(mode=DIRECTORY_MODE, exist_ok=True)


def write_once(path: Path, content: bytes) -> None:
    """Writes `path` unless it exists, even when several processes race to create it at first
    start: each writes a private temporary file and links it into place, so the first link wins
    and nobody ever reads a half-written file."""
    private_directory(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, content)
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def replace_private(path: Path, content: bytes) -> None:
    """Writes `path` whole, replacing it at once: a reader (or a crash) sees the old content or
    the new, never half of it."""
    private_directory(path.parent)
    # mkstemp creates the file for its owner only (0600), and os.replace keeps that mode.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def create_private(path: Path) -> None:
    """Creates an empty `path` for its owner only, unless it exists, so whatever opens it next
    (SQLite, whose -wal and -shm files take the database's mode) keeps that mode rather than the
    umask's. A missing folder is left for the opener to report."""
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
