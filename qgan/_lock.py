"""A run directory's lock: one process writes a run directory at a time.

The lock is ``fcntl.flock`` on ``<run_dir>/.lock``, held for as long as the writing
process keeps the file open. The operating system releases it when that process ends, in
whatever way (a kill -9 included), so a stale lock cannot block a resume: the next process
simply gets it. The file records the holder (pid, host, start time, one JSON line) so that a
refusal can name it; a holder that ended cleanly empties it, so a non-empty file found by a
new holder is a killed process's and is reported as taken over.

``flock`` is advisory and local: it does not guard a run directory on a network file
system written from two machines.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path

LOCK_FILE = ".lock"

log = logging.getLogger("qgan.lock")


class RunLock:
    """The lock of ``run_dir`` (see the module docstring), taken by :meth:`acquire`.

    Usable as a context manager; :meth:`release` is idempotent.
    """

    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock, or a one-line ``ValueError`` naming the live holder's pid."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(_read_holder(fd))
            os.close(fd)
            raise ValueError(
                f"{str(self.run_dir)!r} is in use by {holder}: a run directory is written "
                "by one process at a time; wait for it to finish or stop it, then resume"
            ) from None
        previous = _read_holder(fd)
        if previous:
            log.info("took over the lock of %s, which is no longer running", _describe(previous))
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the lock file (a clean end) and release the lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_holder(fd: int) -> dict:
    """The holder record in the lock file (``{}`` if empty or unreadable)."""
    try:
        record = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _describe(holder: dict) -> str:
    if "pid" not in holder:
        return "another process"
    since = holder.get("since")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "?"
    return f"process {holder['pid']} on {holder.get('host', '?')} (since {started})"
