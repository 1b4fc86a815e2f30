"""The connection to the one SQLite file: opening it, transactions, the schema check.

sqlite-utils is not imported here: it pulls in numpy and a plugin scan (~0.2 s), which every
``tracker search`` would wait for. It loads only when a migration is due (``upgrade``).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tracker.errors import TrackerError
from tracker.store.migrations import MIGRATION_NAMES, SET, as_migrations

T = TypeVar("T")

SCHEMA_VERSION = len(MIGRATION_NAMES)  # PRAGMA user_version after our migrations
# When an article happened, for ordering and windows: published, else first seen. The index
# idx_articles_moment (migration m006) is on this very expression, so it is written only here.
MOMENT = "COALESCE(published_at, first_seen_at)"


def moment(alias: str = "") -> str:
    """``MOMENT`` for a table alias (``moment("a")``); SQLite uses the index only unaliased."""
    if not alias:
        return MOMENT
    return f"COALESCE({alias}.published_at, {alias}.first_seen_at)"


class Database:
    """One connection with the few helpers the store's modules share.

    ``isolation_level=None``: no implicit (deferred) transactions. Every write transaction is an
    explicit BEGIN IMMEDIATE (:meth:`atomic`): a deferred one that reads, then writes after another
    process committed, fails with SQLITE_BUSY_SNAPSHOT, which no busy timeout cures (overlapping
    runs crashed that way); taking the write lock at BEGIN makes a second writer wait its turn.
    """

    def __init__(self, target: str, *, uri: bool = False) -> None:
        self.conn = sqlite3.connect(target, uri=uri, check_same_thread=False, isolation_level=None)
        # The fetch's source threads share this connection: each statement holds the lock, and
        # a transaction holds it from BEGIN to COMMIT, so two threads' writes never interleave.
        self.lock = threading.RLock()

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        with self.lock:
            return self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows as dicts, column name to value, all read under the lock: for results that fit in
        memory. Walk a large result with :meth:`execute` (a cursor) or in LIMIT batches."""
        with self.lock:
            cursor = self.conn.execute(sql, params)
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, values, strict=True)) for values in cursor]

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        """The first column of the first row, or None."""
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Database]:
        """A write transaction (BEGIN IMMEDIATE) holding the lock; nested, a savepoint inside
        the open one."""
        with self.lock, self._transaction():
            yield self

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self.conn.in_transaction:
            name = f"sp_{secrets.token_hex(8)}"
            self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    self.conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            self.conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def count(self, table: str) -> int:
        return int(self.one(f"SELECT count(*) FROM [{table}]"))

    def close(self) -> None:
        self.conn.close()


def applied_migrations(db: Database) -> list[str]:
    """Names of the migrations recorded in the file, in the order they ran."""
    if not db.one(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ):
        return []
    sql = "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid"
    return [r[0] for r in db.execute(sql, [SET])]


def check_schema(db: Database) -> list[str]:
    """Refuse a database a newer tracker wrote; return the migrations still to apply.

    Raises:
        TrackerError: ``user_version`` is past ours, or a migration was applied that we do not know.
    """
    version = db.one("PRAGMA user_version")
    applied = set(applied_migrations(db))
    unknown = sorted(applied - set(MIGRATION_NAMES))
    if version > SCHEMA_VERSION or unknown:
        what = f"migration {unknown[0]}" if unknown else f"schema version {version}"
        raise TrackerError(
            f"this database was written by a newer tracker ({what}); upgrade tracker "
            "(pip install -U tracker) before using it. Nothing was written."
        )
    return [name for name in MIGRATION_NAMES if name not in applied]


def upgrade(db: Database) -> None:
    """Apply pending migrations in one write transaction: one process migrates; another waits,
    then finds nothing to do."""
    import sqlite_utils

    with db.atomic():
        if check_schema(db):  # again, under the write lock
            as_migrations().apply(sqlite_utils.Database(db.conn))
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite says the file itself is broken (not busy, full or read-only)."""
    return "malformed" in str(exc) or "not a database" in str(exc)


def damaged(path: Path | str, detail: str) -> str:
    """One line for a damaged database file: what SQLite found, and how to recover."""
    return (
        f"the database {path} is damaged ({detail}); nothing was written. Restore a backup, or "
        f"recover it: sqlite3 {path} .recover | sqlite3 recovered.db (docs/reliability.md)"
    )


def explain_db_error(path: Path | str, exc: sqlite3.Error) -> str:
    """One line for a database failure, saying what to do."""
    text = str(exc)
    if "not a database" in text:
        return (
            f"cannot open database {path}: it is not an SQLite database, or its header is damaged "
            f"({text}); check --db / TRACKER_DB, or restore a backup"
        )
    if "malformed" in text:
        return damaged(path, text)
    if "full" in text:
        return f"the disk holding {path} is full ({text}); nothing stored was lost. Free space and run again"
    if "locked" in text or "busy" in text:
        return (
            f"the database {path} is busy ({text}): another tracker is writing; try again shortly"
        )
    if "readonly" in text or "read-only" in text:
        return f"the database {path} is read-only ({text}); this command needs write access"
    return f"cannot use database {path}: {text}; check --db / TRACKER_DB"


def iso(when: datetime | None) -> str | None:
    """Stored form of a time: ISO 8601 in UTC to the second, so text order is time order."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat(timespec="seconds")


def in_chunks(ids: Sequence[T], size: int = 500) -> Iterator[tuple[list[T], str]]:
    """``ids`` in slices small enough for one ``IN (...)``, each with its ``?`` placeholders."""
    for i in range(0, len(ids), size):
        chunk = list(ids[i : i + size])
        yield chunk, ",".join("?" * len(chunk))
