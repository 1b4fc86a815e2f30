"""SQL of entities: who is who (``entities``, their name keys and list entries), which articles
name which list names (``article_mentions``), and what is left to link."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from tracker.store.connection import moment
from tracker.store.core import Store
from tracker.textnorm import index_form

LINKED_UPTO = "linked_upto"  # the last article rowid whose text was searched for list names
ENTITIES_BASIS = "entities_basis"  # what the entities were built from (rebuilt when it changes)


def state(store: Store, name: str) -> str | None:
    row = store.db.execute("SELECT value FROM record_state WHERE name = ?", [name]).fetchone()
    return None if row is None else str(row[0])


def set_state(store: Store, name: str, value: str) -> None:
    with store.db.atomic():
        store.db.execute(
            "INSERT INTO record_state (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [name, value],
        )


def record_basis(store: Store) -> str:
    """Changes whenever a snapshot, a rule or a notice changed any list entry."""
    row = store.db.execute(
        "SELECT (SELECT max(id) FROM list_snapshots), (SELECT max(id) FROM list_events), "
        "(SELECT count(*) FROM list_entries), (SELECT count(*) FROM list_rules)"
    ).fetchone()
    return ":".join(str(v or 0) for v in row)


def named_entries(store: Store) -> Iterator[dict[str, Any]]:
    """Every list entry (removed ones too: their history still names them), minus provisional
    entries the screening list has since confirmed."""
    sql = (
        "SELECT e.list_code, e.entry_id, e.name, e.alt_names, e.remarks, "
        "(SELECT json_group_array(n.key) FROM list_names n WHERE n.list_code = e.list_code "
        "AND n.entry_id = e.entry_id) AS keys FROM list_entries e "
        "WHERE e.superseded_by IS NULL ORDER BY e.list_code, e.entry_id"
    )
    for row in store.db.query(sql):
        row["alt_names"] = tuple(json.loads(row["alt_names"] or "[]"))
        row["keys"] = tuple(json.loads(row["keys"] or "[]"))
        yield row


def replace_entities(store: Store, entities: Iterable[Any], basis: str) -> None:
    """Swap in a new set of entities (:class:`tracker.record.entities.Entity`) in one transaction."""
    db = store.db
    with db.atomic():
        for table in ("entities", "entity_keys", "entity_members"):
            db.execute(f"DELETE FROM {table}")
        for e in entities:
            db.execute(
                "INSERT INTO entities (id, name, tag, parent) VALUES (?, ?, ?, ?)",
                [e.id, e.name, e.tag, e.parent],
            )
            db.executemany(
                "INSERT OR IGNORE INTO entity_keys (key, entity_id) VALUES (?, ?)",
                [(k, e.id) for k in e.keys],
            )
            db.executemany(
                "INSERT OR IGNORE INTO entity_members (entity_id, list_code, entry_id) "
                "VALUES (?, ?, ?)",
                [(e.id, code, entry) for code, entry in e.members],
            )
        db.execute(
            "INSERT INTO record_state (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [ENTITIES_BASIS, basis],
        )


# The names looked for in articles' text: every name of every entity on a list (or once on
# one), whether the list, the vocabulary or the table of names in every script gave it.
_MATCH_KEYS = (
    "SELECT DISTINCT key FROM entity_keys WHERE entity_id IN (SELECT entity_id FROM entity_members)"
)


def match_keys(store: Store) -> list[str]:
    return [r[0] for r in store.db.execute(_MATCH_KEYS)]


def unlinked_keys(store: Store) -> list[str]:
    """Names no article has been searched for yet."""
    sql = f"SELECT key FROM ({_MATCH_KEYS}) WHERE key NOT IN (SELECT key FROM linked_keys)"
    return [r[0] for r in store.db.execute(sql)]


def last_rowid(store: Store) -> int:
    return int(store.db.execute("SELECT coalesce(max(rowid), 0) FROM articles").fetchone()[0])


def article_texts(
    store: Store, after: int, upto: int, batch: int = 500
) -> Iterator[list[tuple[int, str, str, str, str]]]:
    """(rowid, id, title, text, moment) of the articles in ``(after, upto]``, in batches."""
    while after < upto:
        rows = store.db.execute(
            f"SELECT rowid, id, title, coalesce(text, ''), {moment('a')} FROM articles a "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            [after, upto, batch],
        ).fetchall()
        if not rows:
            return
        yield [tuple(r) for r in rows]
        after = rows[-1][0]


def queued_texts(store: Store) -> list[tuple[int, str, str, str, str]]:
    """Articles whose text changed since they were last searched for names."""
    # CROSS JOIN keeps the (usually empty) queue outside: the planner, knowing nothing of it,
    # would otherwise walk a million articles to probe it.
    sql = (
        f"SELECT a.rowid, a.id, a.title, coalesce(a.text, ''), {moment('a')} FROM link_queue q "
        "CROSS JOIN articles a ON a.id = q.article_id"
    )
    return [tuple(r) for r in store.db.execute(sql)]


def candidates(store: Store, key: str, upto: int) -> list[tuple[int, str, str, str, str]]:
    """Articles (rowid ≤ ``upto``) whose indexed title or text holds every word of ``key``.

    Each word, not the whole key as one phrase: a key drops legal words the text keeps
    ("example trading 7" in "Example Trading Company 7 Limited"); the matcher then reads each
    candidate to keep only real mentions.
    """
    words = [f'"{form}"' for w in key.split() if (form := index_form(w).replace('"', " ").strip())]
    if not words:
        return []
    sql = (
        f"SELECT a.rowid, a.id, a.title, coalesce(a.text, ''), {moment('a')} FROM articles a "
        "WHERE a.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) "
        "AND a.rowid <= ?"
    )
    match = "{title body} : (" + " AND ".join(words) + ")"
    return [tuple(r) for r in store.db.execute(sql, [match, upto])]


def save_links(
    store: Store,
    mentions: Iterable[tuple[str, str, str]],
    *,
    keys_done: Iterable[str] = (),
    upto: int | None = None,
    dequeued: Iterable[str] = (),
) -> None:
    """Record (article id, key, moment) mentions and how far linking got, in one transaction."""
    db = store.db
    with db.atomic():
        db.executemany(
            "INSERT OR IGNORE INTO article_mentions (article_id, key, at) VALUES (?, ?, ?)",
            list(mentions),
        )
        db.executemany(
            "INSERT OR IGNORE INTO linked_keys (key) VALUES (?)", [(k,) for k in keys_done]
        )
        db.executemany("DELETE FROM link_queue WHERE article_id = ?", [(a,) for a in dequeued])
        if upto is not None:
            db.execute(
                "INSERT INTO record_state (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [LINKED_UPTO, str(upto)],
            )


# ---------------------------------------------------------------- reading entities
def find_entities(store: Store, ident: str, keys: list[str]) -> list[dict[str, Any]]:
    """Entities whose id or vocabulary tag is ``ident``, else whose names fold to ``keys``."""
    rows = list(
        store.db.query(
            "SELECT * FROM entities WHERE id = ? OR tag = ? OR tag = 'company:' || ?",
            [ident, ident, ident],
        )
    )
    if rows or not keys:
        return rows
    marks = ",".join("?" * len(keys))
    return list(
        store.db.query(
            "SELECT * FROM entities WHERE id IN "
            f"(SELECT entity_id FROM entity_keys WHERE key IN ({marks})) ORDER BY id",
            keys,
        )
    )


def entity_keys(store: Store, entity_id: str) -> list[str]:
    return [
        r[0]
        for r in store.db.execute("SELECT key FROM entity_keys WHERE entity_id = ?", [entity_id])
    ]


def entity_entries(store: Store, entity_id: str) -> list[dict[str, Any]]:
    """The entity's list entries (on a list or removed), each with its events, oldest first."""
    rows = list(
        store.db.query(
            "SELECT e.* FROM entity_members m JOIN list_entries e ON e.list_code = m.list_code "
            "AND e.entry_id = m.entry_id WHERE m.entity_id = ? "
            "ORDER BY e.removed_at IS NOT NULL, e.list_code, e.name",
            [entity_id],
        )
    )
    for row in rows:
        row["alt_names"] = json.loads(row["alt_names"] or "[]")
        row["countries"] = json.loads(row["countries"] or "[]")
        row["events"] = list(
            store.db.query(
                "SELECT event, at, citation, document, changed, source FROM list_events "
                "WHERE list_code = ? AND entry_id = ? ORDER BY at, id",
                [row["list_code"], row["entry_id"]],
            )
        )
        for ev in row["events"]:
            ev["changed"] = json.loads(ev["changed"]) if ev["changed"] else []
    return rows


def entity_article_ids(
    store: Store, entity_id: str, tag: str | None, limit: int, lang: str | None = None
) -> list[str]:
    """The newest articles naming the entity (by a list name, or by its vocabulary tag), or
    naming a subsidiary the list says is its own.

    Each name, and the tag, is asked for its own newest ``limit`` (an index walk that stops
    early), then merged: one query over every mention would sort all of a common name's
    articles to keep ten.
    """
    from tracker.store.search import Filters, newest

    lang_sql = " AND (lower(a.lang) = lower(?) OR lower(a.lang) LIKE lower(?) || '-%')"
    found: dict[str, str] = {}
    children = [
        r[0] for r in store.db.execute("SELECT id FROM entities WHERE parent = ?", [entity_id])
    ]
    keys = {k for e in (entity_id, *children) for k in entity_keys(store, e)}
    for key in sorted(keys):
        sql = (
            "SELECT m.article_id, m.at FROM article_mentions m JOIN articles a "
            f"ON a.id = m.article_id WHERE m.key = ?{lang_sql if lang else ''} "
            "ORDER BY m.at DESC LIMIT ?"
        )
        args: list[Any] = [key, *([lang, lang] if lang else []), limit]
        for aid, at in store.db.execute(sql, args):
            found[aid] = max(found.get(aid, ""), at or "")
    if tag:
        for row in newest(store, Filters(tags=[tag], lang=lang), "newest", limit):
            at = row["published_at"] or row["first_seen_at"] or ""
            found[row["id"]] = max(found.get(row["id"], ""), at)
    return sorted(found, key=lambda aid: found[aid], reverse=True)[:limit]


def entities_of(store: Store, article_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per article, the entities it names (by a list name, or by a vocabulary company tag of
    an entity on a list): ``{"id", "name", "lists"}`` each."""
    if not article_ids:
        return {}
    marks = ",".join("?" * len(article_ids))
    sql = (
        "SELECT DISTINCT m.article_id, e.id, e.name FROM article_mentions m "
        "JOIN entity_keys k ON k.key = m.key JOIN entities e ON e.id = k.entity_id "
        f"WHERE m.article_id IN ({marks}) "
        "UNION SELECT DISTINCT t.article_id, e.id, e.name FROM article_tags t "
        f"JOIN entities e ON e.tag = t.tag_id WHERE t.article_id IN ({marks}) "
        "AND EXISTS (SELECT 1 FROM entity_members x WHERE x.entity_id = e.id)"
    )
    out: dict[str, list[dict[str, Any]]] = {aid: [] for aid in article_ids}
    rows = store.db.execute(sql, [*article_ids, *article_ids]).fetchall()
    on = lists_of(store, sorted({r[1] for r in rows}))
    for aid, eid, name in rows:
        out[aid].append({"id": eid, "name": name, "lists": on.get(eid, [])})
    for found in out.values():
        found.sort(key=lambda e: str(e["id"]))
    return out


def entity_count(store: Store) -> int:
    return int(store.db.execute("SELECT count(*) FROM entities").fetchone()[0])


def article_briefs(store: Store, ids: list[str]) -> list[dict[str, Any]]:
    """id, date, source, language and title of articles, in the order of ``ids``."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {
        r["id"]: r
        for r in store.db.query(
            f"SELECT a.id, {moment('a')} AS at, a.source, a.lang, a.title, a.url FROM articles a "
            f"WHERE a.id IN ({marks})",
            ids,
        )
    }
    return [rows[i] for i in ids if i in rows]


def lists_of(store: Store, entity_ids: list[str]) -> dict[str, list[str]]:
    """Per entity, the lists it is on now."""
    if not entity_ids:
        return {}
    marks = ",".join("?" * len(entity_ids))
    out: dict[str, list[str]] = {}
    sql = (
        "SELECT DISTINCT m.entity_id, e.list_code FROM entity_members m JOIN list_entries e "
        "ON e.list_code = m.list_code AND e.entry_id = m.entry_id "
        f"WHERE e.removed_at IS NULL AND m.entity_id IN ({marks}) ORDER BY e.list_code"
    )
    for eid, code in store.db.execute(sql, entity_ids):
        out.setdefault(eid, []).append(code)
    return out


def event_links(store: Store, events: list[dict[str, Any]], news: int = 3) -> None:
    """Give each list event its entity, the stored article of the document that made it, and
    the newest articles naming the entity (``entity``, ``document_article``, ``news``)."""
    entity_of: dict[tuple[str, str], tuple[str, str | None] | None] = {}
    for ev in events:
        member = (ev["list_code"], ev["entry_id"])
        if member not in entity_of:
            row = store.db.execute(
                "SELECT e.id, e.tag FROM entity_members m JOIN entities e ON e.id = m.entity_id "
                "WHERE m.list_code = ? AND m.entry_id = ?",
                list(member),
            ).fetchone()
            entity_of[member] = None if row is None else (row[0], row[1])
        found = entity_of[member]
        ev["entity"] = found[0] if found else None
        ev["news"] = entity_article_ids(store, found[0], found[1], news) if found else []
        doc = ev.get("document")
        row = (
            store.db.execute(
                "SELECT id FROM articles WHERE document_number = ? LIMIT 1", [doc]
            ).fetchone()
            if doc
            else None
        )
        ev["document_article"] = row[0] if row else None
