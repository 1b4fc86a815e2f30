"""Sends the SMTP server accepted that the database has not recorded yet.

Exactly once needs the record of a send to survive whatever happens after the server said 250: a
database busy past its timeout, a full disk, a kill. So each accepted message is first written
here (one small file, fsynced) and only then recorded in ``digest_sends`` / ``digest_items``; the
file is removed once the record is committed. Before the next send, :meth:`SendJournal.replay`
records what is left, so no recipient is mailed the same items twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

Record = dict[str, Any]


class SendJournal:
    """A folder of send records, one JSON file each (``<db>.digest-journal`` beside the store)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, record: Record) -> Path:
        """Write ``record`` durably (fsync, then an atomic rename) and return its file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha1(str(record["message_id"]).encode()).hexdigest()[:20]
        path = self.folder / f"{key}.json"
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
        return path

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def pending(self) -> list[tuple[Path, Record]]:
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.glob("*.json")):
            with contextlib.suppress(OSError, ValueError):
                out.append((path, json.loads(path.read_text("utf-8"))))
        return out

    def replay(self, write: Callable[[Record], None]) -> int:
        """Record every pending send with ``write`` (which must be idempotent); returns how many
        are still pending because writing failed. ``write``'s errors are not raised."""
        left = 0
        for path, record in self.pending():
            try:
                write(record)
            except Exception:  # the database still busy or full: keep the file for next time
                left += 1
                continue
            self.done(path)
        return left
