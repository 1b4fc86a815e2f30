"""The SQLite store: articles, their tags, sources, feed validators and the fetch log.

The SQL of those tables is here; the other table families have a module each beside this one.
Stages hand the store dataclasses and get rows back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from tracker.errors import TrackerError
from tracker.models import Article, Source, TagHit
from tracker.store.connection import (
    Database,
    check_schema,
    explain_db_error,
    in_chunks,
    is_damage,
    iso,
    upgrade,
)
from tracker.store.fts import fts_row, tag_text
from tracker.store.migrations import ARTICLE_FIELDS
from tracker.urls import article_id, canonical_url

T = TypeVar("T")

ARTICLE_ID = re.compile(r"[0-9a-f]{1,16}")  # an article id or a prefix of one (urls.article_id)
PAGE_ATTEMPTS = 3  # failed fetches of an article's page before it is left with its summary


@dataclass
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class LogEntry:
    """One row of ``fetch_log``: what a request did (a status, or an error)."""

    source: str
    url: str
    kind: str  # feed | page | listing
    status: int | None = None
    bytes: int = 0
    duration_ms: int = 0
    error: str | None = None


def content_hash(title: str, text: str) -> str:
    return hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()


class Store:
    """Read and write tracker data; applies pending migrations on open.

    Threads: one connection, shared by a fetch's source threads. Every statement goes through
    :class:`~tracker.store.connection.Database`, which holds its lock for the statement, and for a
    whole transaction (``transaction()``, ``db.atomic()``) from BEGIN to COMMIT; so any method,
    here or in the table-family modules (``stories``, ``search``, ``tags``, ``digests``), may be
    called from any thread, and two threads' transactions never interleave. Code outside
    ``tracker/store/`` never touches the connection (tests/test_architecture.py checks).
    """

    def __init__(self, db: Database, *, readonly: bool = False, busy_timeout: float = 10.0) -> None:
        self.db = db
        self.readonly = readonly
        # How long a writer waits for another process's write transaction before giving up.
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self.db.execute("PRAGMA foreign_keys = ON")
        if check_schema(db):
            if readonly:
                raise TrackerError(
                    "this database was written by an older tracker and cannot be upgraded "
                    "read-only; run 'tracker fetch' once with write access"
                )
            upgrade(db)

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False, busy_timeout: float = 10.0) -> Store:
        """Open the database at ``path`` in WAL mode, creating it unless ``readonly``.

        ``readonly`` is for commands that only read: the file must exist, nothing is written, and
        a database in a directory this user cannot write to can still be read.

        Raises:
            TrackerError: the file cannot be created or opened, is not a tracker database, or
                was written by a newer tracker.
        """
        if readonly:
            if not path.exists():
                raise TrackerError(
                    f"no database at {path}; run 'tracker fetch' first, or pass --db PATH"
                )
            return cls._open_readonly(path, busy_timeout)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = Database(str(path))
            db.execute("PRAGMA journal_mode = WAL")
            return cls(db, busy_timeout=busy_timeout)
        except sqlite3.DatabaseError as exc:
            raise TrackerError(explain_db_error(path, exc)) from exc
        except OSError as exc:
            raise TrackerError(
                f"cannot open database {path}: {exc}; check --db / TRACKER_DB"
            ) from exc

    @classmethod
    def _open_readonly(cls, path: Path, busy_timeout: float) -> Store:
        uri = path.resolve().as_uri()
        last: sqlite3.DatabaseError | None = None
        # mode=ro reads a WAL database while a writer works; it needs the -shm file to exist or be
        # creatable. In a directory nobody can write to, no writer can exist either: immutable.
        for query in ("mode=ro", "immutable=1"):
            try:
                db = Database(f"{uri}?{query}", uri=True)
                return cls(db, readonly=True, busy_timeout=busy_timeout)
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    raise TrackerError(explain_db_error(path, exc)) from exc
                last = exc
        assert last is not None
        raise TrackerError(explain_db_error(path, last)) from last

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around several store calls (nested calls join it): what is
        written inside commits together or not at all, and no other thread's write lands in it."""
        with self.db.atomic():
            yield

    def check_integrity(self) -> str | None:
        """None if SQLite finds the file sound (``PRAGMA quick_check``), else its first complaint."""
        try:
            rows = self.db.execute("PRAGMA quick_check(3)").fetchall()
        except sqlite3.DatabaseError as exc:
            return str(exc)
        problems = [r[0] for r in rows if r[0] != "ok"]
        return "; ".join(problems)[:200] if problems else None

    def close(self) -> None:
        # Refresh planner statistics where they went stale; a read-only or busy database can wait.
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("PRAGMA optimize")
        self.db.close()

    def optimize(self) -> None:
        """Merge the search index's segments and refresh planner statistics (after bulk loads)."""
        with self.db.atomic():
            self.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
        self.db.execute("ANALYZE")

    def tag_frequency(self, tag: str, up_to: int = 1_000_000_000) -> int:
        """Articles carrying ``tag``, counted up to ``up_to`` (counting all of a common tag's
        hundreds of thousands costs tens of milliseconds a search does not need)."""
        sql = "SELECT count(*) FROM (SELECT 1 FROM article_tags WHERE tag_id = ? LIMIT ?)"
        return int(self.db.execute(sql, [tag, up_to]).fetchone()[0])

    # ---------------------------------------------------------------- sources and validators
    def ensure_sources(self, sources: Iterable[Source], now: datetime) -> None:
        """Record the configured sources; idempotent."""
        with self.db.atomic():
            for s in sources:
                self.db.execute(
                    "INSERT INTO sources (name, kind, url, enabled, lang, added_at, official, title) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                    "kind = excluded.kind, url = excluded.url, enabled = excluded.enabled, "
                    "lang = excluded.lang, official = excluded.official, title = excluded.title",
                    [
                        s.name,
                        s.kind,
                        s.url,
                        int(s.enabled),
                        s.lang,
                        iso(now),
                        int(s.official),
                        s.title,
                    ],
                )

    def source_state(self, name: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM source_state WHERE name = ?", [name]))
        return rows[0] if rows else None

    def record_source_run(
        self,
        name: str,
        now: datetime,
        *,
        new: int = 0,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        disabled_reason: str | None = None,
    ) -> None:
        """Update a source's health after a run: success resets it, failure counts up."""
        with self.db.atomic():  # read and write as one
            state = self.source_state(name) or {"name": name, "consecutive_failures": 0}
            state["last_run_at"] = iso(now)
            if error is None:
                state.update(last_success_at=iso(now), consecutive_failures=0, next_attempt_at=None)
                if new:
                    state["last_new_at"] = iso(now)
            else:
                state.update(
                    last_error=error,
                    last_error_at=iso(now),
                    consecutive_failures=(state.get("consecutive_failures") or 0) + 1,
                    next_attempt_at=iso(next_attempt_at),
                )
            if disabled_reason is not None:
                state["disabled_reason"] = disabled_reason
            _upsert(self.db, "source_state", state, "name")

    def reset_source_state(self, name: str) -> None:
        """Forget failures, backoff and a 410 disable (``tracker sources enable``)."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE source_state SET consecutive_failures = 0, next_attempt_at = NULL, "
                "disabled_reason = NULL WHERE name = ?",
                [name],
            )

    def feed_validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified stored for a feed URL."""
        rows = list(
            self.db.query("SELECT etag, last_modified FROM feed_state WHERE url = ?", [url])
        )
        if not rows:
            return None, None
        return rows[0]["etag"], rows[0]["last_modified"]

    def known_ids(self, ids: Iterable[str], *, pages: bool = False) -> set[str]:
        """The ids already stored; with ``pages``, only those whose page needs no new attempt.

        A page needs another attempt when the article holds only a feed's summary and its page
        has neither answered nor failed ``PAGE_ATTEMPTS`` times (a dead link is not fetched forever).
        """
        wanted = list(ids)
        found: set[str] = set()
        where = (
            f" AND (extracted = 1 OR page_fetched_at IS NOT NULL OR page_failures >= {PAGE_ATTEMPTS})"
            if pages
            else ""
        )
        for chunk, marks in in_chunks(wanted):
            found.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT id FROM articles WHERE id IN ({marks}){where}", chunk
                )
            )
        return found

    # ---------------------------------------------------------------- writing a batch
    def save_batch(
        self,
        source: str,
        tagged: Iterable[tuple[Article, list[TagHit]]],
        *,
        now: datetime,
        log: Iterable[LogEntry] = (),
        validators: tuple[str, str | None, str | None] | None = None,
    ) -> SaveCounts:
        """Save one source's articles, tags, log rows and feed validators in one transaction.

        An article already stored (same canonical URL) is updated when its title or text changed and
        left alone otherwise, so running a fetch twice stores nothing twice.
        """
        counts = SaveCounts()
        stamp = iso(now)
        with self.db.atomic():
            for article, hits in tagged:
                outcome = self._save_article(article, hits, stamp)
                setattr(counts, outcome, getattr(counts, outcome) + 1)
            self._log(log, stamp)
            if validators is not None:
                self.save_validators(*validators, now=now)
        return counts

    def save_validators(
        self, url: str, etag: str | None, last_modified: str | None, *, now: datetime
    ) -> None:
        """The ETag / Last-Modified a URL answered with, for the next conditional request."""
        with self.db.atomic():
            _upsert(
                self.db,
                "feed_state",
                {"url": url, "etag": etag, "last_modified": last_modified, "checked_at": iso(now)},
                "url",
            )

    def log_fetches(self, entries: Iterable[LogEntry], now: datetime) -> None:
        with self.db.atomic():
            self._log(entries, iso(now))

    def _log(self, entries: Iterable[LogEntry], stamp: str | None) -> None:
        self.db.executemany(
            "INSERT INTO fetch_log (source, url, kind, status, bytes, duration_ms, error, run_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.source, e.url, e.kind, e.status, e.bytes, e.duration_ms, e.error, stamp)
                for e in entries
            ],
        )

    def _save_article(self, article: Article, hits: list[TagHit], stamp: str | None) -> str:
        # Plain SQL on the hot path: sqlite-utils' insert() re-reads the table schema on every call.
        aid = article_id(article.url)
        digest = content_hash(article.title, article.text)
        conn = self.db
        existing = conn.execute(
            "SELECT rowid, content_hash, extracted FROM articles WHERE id = ?", [aid]
        ).fetchone()
        if existing:  # reached again, perhaps from another source: record that it carried it
            self._add_source(aid, article.source, stamp)
            self._note_page(aid, article.page, stamp)
        # A text read from the article's page is never replaced by a feed's summary or by what a
        # failed page fetch left (the summary again): only by another reading of the page.
        if existing and (existing[1] == digest or (existing[2] and not article.extracted)):
            return "unchanged"
        values = {
            "url": article.url,
            "canonical_url": canonical_url(article.url),
            "title": article.title,
            "text": article.text,
            "summary": article.summary,
            "author": article.author,
            "published_at": iso(article.published_at),
            "updated_at": stamp,
            "lang": article.lang,
            "content_hash": digest,
            "extracted": int(article.extracted),
            "relevance": article.relevance,
        }
        for column, value in article.fields.items():
            if column in ARTICLE_FIELDS:
                values[column] = json.dumps(value) if isinstance(value, list | dict) else value
        if existing:
            # Keep the first source and first_seen_at: the update is the same article.
            rowid = existing[0]
            self._fts_delete(rowid, aid)  # while the old title, text and tags are still stored
            assignments = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(f"UPDATE articles SET {assignments} WHERE id = :id", {**values, "id": aid})
            # Its text changed: the names it mentions are found again after this fetch.
            conn.execute("DELETE FROM article_mentions WHERE article_id = ?", [aid])
            conn.execute("INSERT OR IGNORE INTO link_queue (article_id) VALUES (?)", [aid])
        else:
            row = {**values, "id": aid, "source": article.source, "first_seen_at": stamp}
            if article.page == "failed":
                row["page_failures"] = 1
            elif article.page is not None:
                row["page_fetched_at"] = stamp
            columns = ", ".join(row)
            marks = ", ".join(f":{k}" for k in row)
            # articles.source refers to sources (m022): a source saved without its config
            # (a test, an import) gets a bare row, as the source list already shows it.
            conn.execute(
                "INSERT OR IGNORE INTO sources (name, enabled, added_at) VALUES (?, 1, ?)",
                [article.source, stamp],
            )
            rowid = conn.execute(
                f"INSERT INTO articles ({columns}) VALUES ({marks})", row
            ).lastrowid
        self._fts_insert(rowid, article.title, article.text, hits)
        self.set_tags(aid, hits)
        if not existing:
            self._add_source(aid, article.source, stamp)
        return "updated" if existing else "new"

    def _note_page(self, aid: str, page: str | None, stamp: str | None) -> None:
        """Record how a stored article's page answered this time (see ``known_ids``; a new
        article's row is inserted with the same columns set)."""
        if page == "failed":
            self.db.execute(
                "UPDATE articles SET page_failures = page_failures + 1 WHERE id = ?", [aid]
            )
        elif page is not None:
            self.db.execute(
                "UPDATE articles SET page_fetched_at = ?, page_failures = 0 WHERE id = ?",
                [stamp, aid],
            )

    def _add_source(self, aid: str, source: str, stamp: str | None) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO article_sources (article_id, source, first_seen_at) VALUES (?, ?, ?)",
            [aid, source, stamp],
        )

    def _fts_insert(self, rowid: int, title: str, text: str, hits: list[TagHit]) -> None:
        self.db.execute(
            "INSERT INTO articles_fts (rowid, title, body, tails, tags) VALUES (?, ?, ?, ?, ?)",
            [rowid, *fts_row(title, text), tag_text((h.tag_id, h.count, h.in_title) for h in hits)],
        )

    def _fts_delete(self, rowid: int, aid: str) -> None:
        """Remove an article's index row, rebuilt from what is stored (the index keeps no copy)."""
        row = self.db.execute(
            "SELECT title, text FROM articles WHERE rowid = ?", [rowid]
        ).fetchone()
        tags = self.db.execute(
            "SELECT tag_id, count, in_title FROM article_tags WHERE article_id = ?", [aid]
        ).fetchall()
        self.db.execute(
            "INSERT INTO articles_fts (articles_fts, rowid, title, body, tails, tags) "
            "VALUES ('delete', ?, ?, ?, ?, ?)",
            [rowid, *fts_row(row[0] or "", row[1] or ""), tag_text(tags)],
        )

    def set_tags(self, aid: str, hits: list[TagHit]) -> None:
        """Replace an article's tags (the caller holds the transaction)."""
        conn = self.db
        conn.execute("DELETE FROM article_tags WHERE article_id = ?", [aid])
        if not hits:
            return
        conn.executemany(
            "INSERT INTO tags (id, kind, slug, name) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            [(h.tag_id, h.kind, h.slug, h.name) for h in hits],
        )
        conn.executemany(
            "INSERT INTO article_tags (article_id, tag_id, count, in_title) VALUES (?, ?, ?, ?)",
            [(aid, h.tag_id, h.count, int(h.in_title)) for h in hits],
        )

    # ---------------------------------------------------------------- reading
    def article(self, aid: str) -> dict[str, Any] | None:
        """One article with its tags (as kind/slug/name/count/in_title dicts), or None."""
        aid = aid.strip().lower()
        if not ARTICLE_ID.fullmatch(aid):
            return None  # ids are hex: '%' or '_' would otherwise match as LIKE wildcards
        rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [aid]))
        if not rows:
            # A prefix: the ids from aid up to (not including) the next prefix, in index order.
            rows = list(
                self.db.query(
                    "SELECT * FROM articles WHERE id >= ? AND id < ? LIMIT 2",
                    [aid, aid + "g"],
                )
            )
            if len(rows) != 1:
                return None
        row = rows[0]
        row["tags"] = self.tags_for([row["id"]]).get(row["id"], [])
        row["sources"] = [
            r["source"]
            for r in self.db.query(
                "SELECT source FROM article_sources WHERE article_id = ? ORDER BY rowid",
                [row["id"]],
            )
        ]
        return row

    def tags_for(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT at.article_id, t.kind, t.slug, t.name, at.count, at.in_title "
            "FROM article_tags at JOIN tags t ON t.id = at.tag_id "
            f"WHERE at.article_id IN ({marks}) ORDER BY t.kind, t.slug"
        )
        for r in self.db.query(sql, ids):
            aid = r.pop("article_id")
            r["in_title"] = bool(r["in_title"])
            out.setdefault(aid, []).append(r)
        return out

    def source_rows(self) -> list[dict[str, Any]]:
        """Every stored source with its article count and latest fetch outcome."""
        # Registered sources, and any name articles were stored under without one (an import,
        # a database from before sources were recorded).
        sql = """
            WITH names AS (SELECT name FROM sources UNION SELECT DISTINCT source FROM articles)
            SELECT n.name, s.kind, s.url, COALESCE(s.enabled, 1) AS enabled, s.lang,
                   (SELECT count(*) FROM articles a WHERE a.source = n.name) AS articles,
                   (SELECT max(run_at) FROM fetch_log f WHERE f.source = n.name) AS last_run,
                   (SELECT f.error FROM fetch_log f WHERE f.source = n.name AND f.kind != 'page'
                    ORDER BY f.id DESC LIMIT 1) AS last_error
            FROM names n LEFT JOIN sources s ON s.name = n.name ORDER BY n.name
        """
        return list(self.db.query(sql))

    def save_retag(self, results: Iterable[tuple[str, list[TagHit], float]]) -> None:
        """Replace tags and relevance of already-stored articles, in one transaction."""
        with self.db.atomic():
            for aid, hits, score in results:
                row = self.db.execute(
                    "SELECT rowid, title, text FROM articles WHERE id = ?", [aid]
                ).fetchone()
                self._fts_delete(row[0], aid)  # before the old tags are replaced
                self.set_tags(aid, hits)
                self._fts_insert(row[0], row[1] or "", row[2] or "", hits)
                self.db.execute("UPDATE articles SET relevance = ? WHERE id = ?", [score, aid])

    def delete_articles(self, ids: Iterable[str]) -> int:
        """Delete articles with their tags, sources and index rows; returns how many there were.

        Their stories are the caller's to mend first (``tracker.stories.place.delete_articles``).
        """
        gone = 0
        with self.db.atomic():
            for aid in ids:
                row = self.db.execute("SELECT rowid FROM articles WHERE id = ?", [aid]).fetchone()
                if row is None:
                    continue
                self._fts_delete(row[0], aid)
                # digest_items refers to the article (m022): its sent-record goes with it.
                for table in ("article_tags", "article_sources", "digest_items"):
                    self.db.execute(f"DELETE FROM {table} WHERE article_id = ?", [aid])
                self.db.execute("DELETE FROM articles WHERE id = ?", [aid])
                gone += 1
        return gone

    def source_health_rows(self, now: datetime) -> list[dict[str, Any]]:
        """Per stored source: its health state, recent article counts and median fetch time."""
        import statistics  # here: it loads fractions and decimal, which a search never needs

        week, month = iso(now - timedelta(days=7)), iso(now - timedelta(days=30))
        sql = """
            SELECT s.name, s.added_at, st.last_run_at, st.last_success_at, st.last_new_at,
                   st.last_error, st.last_error_at, COALESCE(st.consecutive_failures, 0) AS failures,
                   st.next_attempt_at, st.disabled_reason,
                   (SELECT count(*) FROM articles a WHERE a.source = s.name
                      AND a.first_seen_at >= ?) AS articles_7d,
                   (SELECT count(*) FROM articles a WHERE a.source = s.name
                      AND a.first_seen_at >= ?) AS articles_30d
            FROM sources s LEFT JOIN source_state st ON st.name = s.name ORDER BY s.name
        """
        rows = list(self.db.query(sql, [week, month]))
        for row in rows:
            durations = [
                r["duration_ms"]
                for r in self.db.query(
                    "SELECT duration_ms FROM fetch_log WHERE source = ? AND error IS NULL "
                    "AND kind IN ('feed', 'listing', 'api') ORDER BY id DESC LIMIT 20",
                    [row["name"]],
                )
            ]
            row["median_fetch_ms"] = statistics.median(durations) if durations else None
        return rows

    def iter_articles(self, batch: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Every article (id, title, text, lang, relevance) in batches, for whole-store passes."""
        last = ""
        while True:
            rows = list(
                self.db.query(
                    "SELECT id, title, text, lang, relevance FROM articles WHERE id > ? "
                    "ORDER BY id LIMIT ?",
                    [last, batch],
                )
            )
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]

    def count(self, table: str = "articles") -> int:
        return self.db.count(table)


def _upsert(db: Database, table: str, row: dict[str, Any], key: str) -> None:
    """Insert ``row``, or update the columns it names in the row with the same ``key``."""
    columns = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != key)
    db.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}",
        row,
    )
