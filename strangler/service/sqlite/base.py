"""SQLite whose writers queue instead of polling.

SQLite has one writer at a time. With Django's `BEGIN IMMEDIATE`, a writer that finds the lock
taken sleeps in SQLite's busy handler (1, 2, 5, ... up to 100 ms at a time) and tries again;
under steady writes from several gunicorn threads, the relay and the consumer, an unlucky
writer keeps waking just after another took the lock and waits seconds (p99 2.7 s seen for
token rotations taking a few ms each). Here every transaction first takes an exclusive `flock`
on a file beside the database: the kernel hands it over the moment it is released, so writers
queue instead of polling, and `BEGIN IMMEDIATE` then finds the database free.

The database holds password hashes and tokens: it is created readable by its owner only.
"""

import fcntl
import os
from pathlib import Path

from django.db.backends.sqlite3 import base

from strangler.service.secret_files import create_private


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock_fd: int | None = None

    def get_new_connection(self, conn_params):
        name = str(conn_params["database"])
        # SQLite would create a missing file with the umask's mode (0644 usually).
        if not self.is_in_memory_db() and not name.startswith("file:"):
            create_private(Path(name))
        return super().get_new_connection(conn_params)

    def _lock_path(self) -> str | None:
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}.writelock"

    def _take_write_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._write_lock_fd is not None:
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._write_lock_fd = fd

    def _release_write_lock(self) -> None:
        fd, self._write_lock_fd = self._write_lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases its flock

    def _start_transaction_under_autocommit(self):
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()
