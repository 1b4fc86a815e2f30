"""SQL of the story tables: ``stories``, ``story_sigs``, ``story_bands``, ``story_keys`` and
``articles.story_id`` / ``story_reason``.

The placement algorithm (what joins what) lives in :mod:`tracker.stories`; it asks these
functions for rows and candidates and tells them what it decided. Writers are called inside a
transaction the caller holds (``Store.transaction``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

from tracker.store.connection import in_chunks, iso, moment
from tracker.store.core import Store

# What placement reads of an article to sign it.
ARTICLE_COLUMNS = (
    "a.id, a.url, a.title, a.text, a.summary, a.lang, a.extracted, a.document_number, "
    f"{moment('a')} AS moment"
)

# The indexes m009 made on the placement tables (dropped and rebuilt around a full rebuild).
_STORY_INDEXES = (
    ("idx_story_bands_key", "story_bands (key)"),
    ("idx_story_bands_article_id", "story_bands (article_id)"),
    ("idx_story_keys_key_moment", "story_keys (key, moment)"),
    ("idx_story_keys_article_id", "story_keys (article_id)"),
)


class Signed(Protocol):
    """What the store keeps of an article's signature (``stories.match.Signature``)."""

    @property
    def article_id(self) -> str: ...
    @property
    def moment(self) -> float: ...
    @property
    def lang(self) -> str: ...
    @property
    def official(self) -> bool: ...
    @property
    def extracted(self) -> bool: ...
    @property
    def minhash(self) -> bytes: ...
    @property
    def bands(self) -> tuple[int, ...]: ...
    @property
    def keys(self) -> tuple[str, ...]: ...

    def facts(self) -> str: ...


# ---------------------------------------------------------------- articles to place
def tags_of(store: Store, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for chunk, marks in in_chunks(ids):
        sql = f"SELECT article_id, tag_id FROM article_tags WHERE article_id IN ({marks})"
        for aid, tag in store.db.execute(sql, chunk):
            out[aid].append(tag)
    return out


def pending_ids(store: Store) -> list[str]:
    """Articles with no story yet, oldest first."""
    sql = f"SELECT id FROM articles WHERE story_id IS NULL ORDER BY {moment()}, rowid"
    return [r[0] for r in store.db.execute(sql)]


def article_rows(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """The articles ``ids`` as placement reads them, with their tags, oldest first."""
    marks = ",".join("?" * len(ids))
    sql = (
        f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id IN ({marks}) "
        f"ORDER BY {moment('a')}, a.rowid"
    )
    return _with_tags(store, list(store.db.query(sql, ids)))


def every_article(store: Store, batch: int) -> Iterator[list[dict[str, Any]]]:
    """Every article as placement reads it, in time order, ``batch`` at a time."""
    cursor = store.db.execute(
        f"SELECT {ARTICLE_COLUMNS} FROM articles a ORDER BY {moment('a')}, a.rowid"
    )
    columns = [d[0] for d in cursor.description]
    while rows := [dict(zip(columns, v, strict=True)) for v in cursor.fetchmany(batch)]:
        yield _with_tags(store, rows)


def _with_tags(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tags = tags_of(store, [r["id"] for r in rows])
    for row in rows:
        row["tags"] = tags.get(row["id"], [])
    return rows


# ---------------------------------------------------------------- signatures and candidates
def write_signatures(store: Store, sigs: Iterable[Signed]) -> None:
    """Store signatures with their LSH bands and lookup keys."""
    sigs = list(sigs)
    conn = store.db
    conn.executemany(
        "INSERT OR REPLACE INTO story_sigs (article_id, moment, lang, official, extracted, "
        "minhash, facts) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                s.article_id,
                s.moment,
                s.lang,
                int(s.official),
                int(s.extracted),
                s.minhash,
                s.facts(),
            )
            for s in sigs
        ),
    )
    conn.executemany(
        "INSERT INTO story_bands (key, article_id) VALUES (?, ?)",
        ((k, s.article_id) for s in sigs for k in s.bands),
    )
    conn.executemany(
        "INSERT INTO story_keys (key, moment, article_id) VALUES (?, ?, ?)",
        ((k, s.moment, s.article_id) for s in sigs for k in s.keys),
    )


def band_neighbours(store: Store, bands: Iterable[int], per_band: int) -> list[str]:
    """Per LSH band, the ``per_band`` newest articles sharing it (all bands in one statement)."""
    bands = list(bands)
    if not bands:
        return []
    part = (
        "SELECT * FROM (SELECT article_id FROM story_bands WHERE key = ? "
        "ORDER BY rowid DESC LIMIT ?)"
    )
    args: list[Any] = [v for band in bands for v in (band, per_band)]
    return [r[0] for r in store.db.execute(" UNION ALL ".join([part] * len(bands)), args)]


def key_neighbours(
    store: Store, keys: Iterable[str], at: float, window: float, before: int, after: int
) -> list[str]:
    """Per lookup key, the nearest articles in time within ``window`` seconds of ``at``:
    ``before`` on the earlier side, ``after`` on the later (two index walks outward, no sort)."""
    keys = list(keys)
    if not keys:
        return []
    part = (
        "SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ? "
        "AND moment BETWEEN ? AND ? ORDER BY moment DESC LIMIT ?) "
        "UNION ALL SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ? "
        "AND moment > ? AND moment <= ? ORDER BY moment LIMIT ?)"
    )
    args: list[Any] = []
    for key in keys:
        args += [key, at - window, at, before, key, at, at + window, after]
    return [r[0] for r in store.db.execute(" UNION ALL ".join([part] * len(keys)), args)]


def signature_rows(store: Store, ids: list[str]) -> Iterator[dict[str, Any]]:
    for chunk, marks in in_chunks(ids):
        yield from store.db.query(f"SELECT * FROM story_sigs WHERE article_id IN ({marks})", chunk)


def member_signature_rows(store: Store, story: int) -> list[dict[str, Any]]:
    sql = "SELECT g.* FROM story_sigs g JOIN articles a ON a.id = g.article_id WHERE a.story_id = ?"
    return list(store.db.query(sql, [story]))


# ---------------------------------------------------------------- stories
def story_of(store: Store, aid: str) -> int:
    return int(store.db.one("SELECT story_id FROM articles WHERE id = ?", [aid]))


def stories_of(store: Store, ids: list[str]) -> set[int]:
    found: set[int] = set()
    for chunk, marks in in_chunks(ids):
        sql = f"SELECT DISTINCT story_id FROM articles WHERE id IN ({marks})"
        found.update(int(r[0]) for r in store.db.execute(sql, chunk) if r[0] is not None)
    return found


def new_story(store: Store, lead: str, at: str | None, stamp: str | None) -> int:
    sql = (
        "INSERT INTO stories (lead_id, size, first_at, last_at, updated_at) VALUES (?, 1, ?, ?, ?)"
    )
    return int(store.db.execute(sql, [lead, at, at, stamp]).lastrowid or 0)


def merge_story(store: Store, into: int, other: int) -> None:
    """Every member of ``other`` joins ``into``; ``other`` goes (its row is refreshed after)."""
    store.db.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [into, other])
    store.db.execute("DELETE FROM stories WHERE id = ?", [other])


def assign(store: Store, aid: str, story: int | None, reason: str | None) -> None:
    store.db.execute(
        "UPDATE articles SET story_id = ?, story_reason = ? WHERE id = ?", [story, reason, aid]
    )


def story_head(store: Store, story: int) -> tuple[str, int, str | None, str | None] | None:
    """A story's lead, size and span (first, last), or None."""
    row = store.db.execute(
        "SELECT lead_id, size, first_at, last_at FROM stories WHERE id = ?", [story]
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def update_story(
    store: Store,
    story: int,
    lead: str,
    size: int,
    first: str | None,
    last: str | None,
    stamp: str | None,
) -> None:
    store.db.execute(
        "UPDATE stories SET lead_id = ?, size = ?, first_at = ?, last_at = ?, updated_at = ? "
        "WHERE id = ?",
        [lead, size, first, last, stamp, story],
    )


def delete_story(store: Store, story: int) -> None:
    store.db.execute("DELETE FROM stories WHERE id = ?", [story])


def forget_article(store: Store, aid: str) -> int | None:
    """Take an article out of the placement tables and its story; returns that story."""
    story = store.db.one("SELECT story_id FROM articles WHERE id = ?", [aid])
    for table in ("story_sigs", "story_bands", "story_keys"):
        store.db.execute(f"DELETE FROM {table} WHERE article_id = ?", [aid])
    if story is not None:
        assign(store, aid, None, None)
    return None if story is None else int(story)


# ---------------------------------------------------------------- term counts (rarity)
TOTAL = ""  # the story_terms row counting the articles themselves


def term_counts(store: Store, terms: Iterable[str]) -> dict[str, int]:
    """Stored document frequencies of ``terms`` (absent: not counted yet)."""
    out: dict[str, int] = {}
    for chunk, marks in in_chunks(list(terms)):
        sql = f"SELECT term, df FROM story_terms WHERE term IN ({marks})"
        out.update(store.db.execute(sql, chunk).fetchall())
    return out


def add_term_counts(store: Store, deltas: dict[str, int]) -> None:
    """Add to the stored document frequencies (``TOTAL``: to the article count)."""
    store.db.executemany(
        "INSERT INTO story_terms (term, df) VALUES (?, ?) "
        "ON CONFLICT (term) DO UPDATE SET df = df + excluded.df",
        deltas.items(),
    )


def replace_term_counts(store: Store, counts: dict[str, int]) -> None:
    """Every document frequency at once (the rebuild counted them all)."""
    store.db.execute("DELETE FROM story_terms")
    store.db.executemany("INSERT INTO story_terms (term, df) VALUES (?, ?)", counts.items())


# ---------------------------------------------------------------- the full rebuild
def clear_stories(store: Store) -> None:
    """Empty every story table and drop their indexes (sorting once at the end beats a million
    random index inserts; :func:`restore_indexes` builds them)."""
    for table in ("story_sigs", "story_bands", "story_keys", "stories"):
        store.db.execute(f"DELETE FROM {table}")
    for name, _ in _STORY_INDEXES:
        store.db.execute(f"DROP INDEX IF EXISTS {name}")


def write_stories(
    store: Store,
    placements: Iterable[tuple[int, str | None, str]],
    rows: Iterable[tuple[int, str, int, str | None, str | None, str | None]],
) -> None:
    """Every article's (story, reason, id), and every story's row; then the indexes again."""
    store.db.executemany(
        "UPDATE articles SET story_id = ?, story_reason = ? WHERE id = ?", placements
    )
    store.db.executemany(
        "INSERT INTO stories (id, lead_id, size, first_at, last_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    for name, sql in _STORY_INDEXES:
        store.db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {sql}")


# ---------------------------------------------------------------- reading stories
def placements(store: Store) -> dict[str, int | None]:
    """Every article's story id."""
    return {r[0]: r[1] for r in store.db.execute("SELECT id, story_id FROM articles")}


def leads(store: Store) -> dict[int, str]:
    """Every story's lead article."""
    return {r[0]: r[1] for r in store.db.execute("SELECT id, lead_id FROM stories")}


def story_members(store: Store, story_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Per story: its members (id, title, url, source, lang, moment, reason), lead first."""
    wanted = sorted(set(story_ids))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk, marks in in_chunks(wanted):
        sql = (
            "SELECT a.story_id, a.id, a.title, a.url, a.source, a.lang, a.publisher, "
            f"{moment('a')} AS moment, a.story_reason AS reason, "
            "s.lead_id = a.id AS is_lead FROM articles a JOIN stories s ON s.id = a.story_id "
            f"WHERE a.story_id IN ({marks}) ORDER BY a.story_id, is_lead DESC, moment, a.rowid"
        )
        for row in store.db.query(sql, chunk):
            row["is_lead"] = bool(row["is_lead"])
            out[row.pop("story_id")].append(row)
    return out


def list_stories(
    store: Store,
    *,
    since: datetime | None = None,
    min_size: int = 1,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Stories active since ``since`` (latest member on or after it), largest and newest first,
    each with its lead's title, sources, languages, tags and members (lead first)."""
    sql = (
        "SELECT s.id, s.size, s.first_at, s.last_at, s.lead_id, a.title, a.url, a.source "
        "FROM stories s JOIN articles a ON a.id = s.lead_id WHERE s.size >= ?"
    )
    params: list[Any] = [min_size]
    if since is not None:
        sql += " AND s.last_at >= ?"
        params.append(iso(since))
    sql += " ORDER BY s.size DESC, s.last_at DESC LIMIT ?"
    rows = list(store.db.query(sql, [*params, limit]))
    members = story_members(store, [r["id"] for r in rows])
    ids = [m["id"] for r in rows for m in members[r["id"]]]
    tags = store.tags_for(ids)
    for row in rows:
        group = members[row["id"]]
        row["sources"] = sorted({m["publisher"] or m["source"] for m in group})
        row["languages"] = sorted({(m["lang"] or "?") for m in group})
        row["tags"] = _story_tags(group, tags, row["lead_id"])
        row["members"] = group
    return rows


def _story_tags(
    group: list[dict[str, Any]], tags: dict[str, list[dict[str, Any]]], lead: str
) -> list[dict[str, Any]]:
    """A story's tags in the shape an article's have: ``count`` is how many members carry the
    tag, ``in_title`` whether the lead's title names it."""
    pooled: dict[tuple[str, str], dict[str, Any]] = {}
    for m in group:
        for t in tags.get(m["id"], []):
            entry = pooled.setdefault(
                (t["kind"], t["slug"]),
                {"kind": t["kind"], "slug": t["slug"], "name": t["name"], "count": 0},
            )
            entry["count"] += 1
            entry["in_title"] = entry.get("in_title", False) or (m["id"] == lead and t["in_title"])
    return [pooled[k] for k in sorted(pooled)]
