"""SQL of the digest: the window's articles as a digest reads them, and the send records
(``digest_sends``, ``digest_items``) that make each article go to each subscriber once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from tracker.store.connection import in_chunks, iso
from tracker.store.core import Store

WINDOW_COLUMNS = (
    "a.rowid, a.id, a.story_id, a.title, a.url, a.source, a.publisher, a.lang, a.published_at, "
    "a.first_seen_at, a.relevance, a.document_number, a.doc_type, a.action, a.effective_on, "
    "a.html_url, COALESCE(s.official, 0) AS source_official, s.title AS source_title"
)


# ---------------------------------------------------------------- what a digest reads
def window_rows(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Articles first seen from ``start`` to ``end`` (no text: see :func:`texts`)."""
    sql = (
        f"SELECT {WINDOW_COLUMNS} FROM articles a LEFT JOIN sources s ON s.name = a.source "
        "WHERE a.first_seen_at >= ? AND a.first_seen_at <= ?"
    )
    return list(store.db.query(sql, [iso(start), iso(end)]))


def tags_with_names(store: Store, ids: list[str]) -> Iterator[tuple[str, str, int, int, str]]:
    """(article, tag, count, in_title, tag name) for every tag of the articles ``ids``."""
    for chunk, marks in in_chunks(ids):
        yield from store.db.execute(
            "SELECT at.article_id, at.tag_id, at.count, at.in_title, t.name FROM article_tags at "
            f"JOIN tags t ON t.id = at.tag_id WHERE at.article_id IN ({marks})",
            chunk,
        )


def matching_rowids(store: Store, match: str, floor: int) -> list[int]:
    """Rowids from ``floor`` up whose indexed text matches the FTS5 ``match`` (a window's rowids
    are a range: FTS5 walks only that part of the index)."""
    sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?"
    return [r[0] for r in store.db.execute(sql, [match, floor])]


def relevant_tag_counts(
    store: Store, start: datetime, end: datetime, relevance: float
) -> dict[str, int]:
    """Per tag: relevant articles first seen from ``start`` to before ``end``."""
    return {
        r[0]: r[1]
        for r in store.db.execute(
            "SELECT at.tag_id, count(*) FROM article_tags at JOIN articles a "
            "ON a.id = at.article_id WHERE a.first_seen_at >= ? AND a.first_seen_at < ? "
            "AND a.relevance >= ? GROUP BY at.tag_id",
            [iso(start), iso(end), relevance],
        )
    }


def texts(store: Store, ids: list[str]) -> dict[str, str]:
    """The text (else the summary) of the articles ``ids``."""
    out: dict[str, str] = {}
    for chunk, marks in in_chunks(ids):
        sql = f"SELECT id, text, summary FROM articles WHERE id IN ({marks})"
        for aid, text, summary in store.db.execute(sql, chunk):
            out[aid] = text or summary or ""
    return out


# ---------------------------------------------------------------- what was sent
def last_success(store: Store, email: str) -> datetime | None:
    """The end of the last window sent to ``email``."""
    sql = "SELECT max(window_end) FROM digest_sends WHERE email = ? AND status = 'sent'"
    end = store.db.one(sql, [email])
    return datetime.fromisoformat(end) if end else None


def sent_items(store: Store, email: str) -> set[str]:
    """Every article ever sent to ``email``."""
    sql = "SELECT article_id FROM digest_items WHERE email = ?"
    return {r[0] for r in store.db.execute(sql, [email])}


def write_send(store: Store, record: dict[str, Any]) -> None:
    """One send's row and, for a sent one, its items, in one transaction. Idempotent for a sent
    record (keyed on its Message-ID), so a journal replayed twice records it once."""
    with store.transaction():
        sql = "SELECT 1 FROM digest_sends WHERE message_id = ?"
        if record["message_id"] and store.db.one(sql, [record["message_id"]]):
            return
        send_id = store.db.execute(
            "INSERT INTO digest_sends (email, started_at, finished_at, window_start, window_end, "
            "message_id, subject, items, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                record["email"],
                record["stamp"],
                record["stamp"],
                record["window_start"],
                record["window_end"],
                record["message_id"],
                record["subject"],
                len(record["ids"]),
                record["status"],
                record["error"],
            ],
        ).lastrowid
        store.db.executemany(
            "INSERT OR IGNORE INTO digest_items (email, article_id, send_id, sent_at) "
            "VALUES (?, ?, ?, ?)",
            [(record["email"], aid, send_id, record["stamp"]) for aid in record["ids"]],
        )


def naming_rowids(store: Store, floor: int, entities: list[str], lists: list[str]) -> set[int]:
    """Rowids from ``floor`` up of the articles naming every one of ``entities`` and an entity
    now on each of ``lists`` (a subscriber's ``entity:`` and ``listed:`` filters)."""
    from tracker.store.search import Filters

    where, params = Filters(entities=entities, listed=lists).sql(store)
    sql = "SELECT a.rowid FROM articles a WHERE a.rowid >= ?" + "".join(f" AND {w}" for w in where)
    return {r[0] for r in store.db.execute(sql, [floor, *params])}
