"""One process at a time for work that must not overlap: a fetch, a digest send.

An advisory lock (``flock``) on a file beside the database: the kernel drops it when the holder
dies, kill -9 included, so a crashed run never leaves a stale lock behind. The file holds the
holder's pid and start time, for the refusal message.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from tracker.errors import TrackerError


class Busy(TrackerError):
    """Another process holds the lock."""


def lock_path(db_path: Path, what: str) -> Path:
    return db_path.with_name(f"{db_path.name}.{what}-lock")


@contextlib.contextmanager
def exclusive(path: Path, doing: str) -> Iterator[None]:
    """Hold the lock at ``path`` for the block.

    Raises:
        Busy: another process holds it; the message names what it is doing and since when.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; overlapping runs are the user's to avoid
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise Busy(
                f"{doing} is already running on this database ({holder}); this run did "
                "nothing. Try again when it has finished"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            handle.write(f"pid {os.getpid()}, since {stamp}")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
