"""Stored stories: placing new articles as they arrive, and reading stories back.

The tables (``stories``, ``story_sigs``, ``story_bands``, ``story_keys``, ``articles.story_id``) are
written here and by the full rebuild (:mod:`tracker.stories.rebuild`). An article with no
``story_id`` is pending: ``place_pending`` picks it up, so a run that stopped between saving and
placing catches up on the next one.
"""

from __future__ import annotations

import collections
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracker.store import Store, in_chunks, iso
from tracker.stories.match import (
    BAND_CANDIDATES,
    HOUR,
    KEY_CANDIDATES,
    MERGE_STRENGTH,
    Signature,
    StoryRules,
    lead_rank,
    matches,
    reason_kind,
    signature,
)


@dataclass
class PlaceReport:
    placed: int = 0
    joined: int = 0
    stories: int = 0  # new stories
    merged: int = 0  # stories joined into another by an article matching both
    seconds: float = 0.0  # time spent placing
    reasons: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str) -> None:
        self.joined += 1
        kind = reason_kind(reason)
        self.reasons[kind] = self.reasons.get(kind, 0) + 1


ARTICLE_COLUMNS = (
    "a.id, a.url, a.title, a.text, a.summary, a.lang, a.extracted, a.document_number, "
    "COALESCE(a.published_at, a.first_seen_at) AS moment"
)


def tags_of(store: Store, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for chunk, marks in in_chunks(ids):
        for aid, tag in store.db.conn.execute(
            f"SELECT article_id, tag_id FROM article_tags WHERE article_id IN ({marks})", chunk
        ):
            out[aid].append(tag)
    return out


def signatures_of(rows: list[dict[str, Any]]) -> list[Signature]:
    return [signature(row, row["tags"]) for row in rows]


def story_row(
    sid: int, ranks: dict[str, tuple[int, int, float]], stamp: str | None
) -> tuple[int, str, int, str | None, str | None, str | None]:
    """A ``stories`` row from its members' lead ranks (see ``stories.lead_rank``): the best
    ranked leads, and the ranks' moments give the story's span."""
    lead = min(ranks, key=ranks.__getitem__)
    moments = [rank[2] for rank in ranks.values()]
    return (sid, lead, len(ranks), iso_ts(min(moments)), iso_ts(max(moments)), stamp)


def iso_ts(moment: float) -> str | None:
    return iso(datetime.fromtimestamp(moment, UTC)) if moment else None


def write_signatures(store: Store, sigs: Iterable[Signature]) -> None:
    """Store signatures with their LSH bands and lookup keys (the caller holds the transaction)."""
    sigs = list(sigs)
    conn = store.db.conn
    conn.executemany(
        "INSERT OR REPLACE INTO story_sigs (article_id, moment, lang, official, extracted, "
        "minhash, facts) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                sig.article_id,
                sig.moment,
                sig.lang,
                int(sig.official),
                int(sig.extracted),
                sig.minhash,
                sig.facts(),
            )
            for sig in sigs
        ),
    )
    conn.executemany(
        "INSERT INTO story_bands (key, article_id) VALUES (?, ?)",
        ((k, sig.article_id) for sig in sigs for k in sig.bands),
    )
    conn.executemany(
        "INSERT INTO story_keys (key, moment, article_id) VALUES (?, ?, ?)",
        ((k, sig.moment, sig.article_id) for sig in sigs for k in sig.keys),
    )


# ---------------------------------------------------------------- incremental placement
class SqlIndex:
    """Candidates looked up in the stored signatures (for articles arriving one by one)."""

    def __init__(self, store: Store) -> None:
        self.conn = store.db.conn
        # Signatures read back (or just placed) in this run: neighbouring articles share most
        # candidates, and reading one back costs a query and a JSON decode.
        self.cache: dict[str, Signature] = {}

    def remember(self, sig: Signature) -> None:
        if len(self.cache) > 50_000:
            self.cache.clear()
        self.cache[sig.article_id] = sig

    def candidates(self, sig: Signature, rules: StoryRules) -> Iterator[tuple[Signature, bool]]:
        ids: dict[str, bool] = {}  # article id -> shares an LSH band
        bands = sig.bands
        if bands:
            # The newest few per band: a band shared by thousands of near-identical copies would
            # otherwise make every new copy compare with all of them (placement went quadratic).
            part = "SELECT * FROM (SELECT article_id FROM story_bands WHERE key = ? ORDER BY rowid DESC LIMIT ?)"
            per_band: list[Any] = [v for band in bands for v in (band, BAND_CANDIDATES)]
            for (aid,) in self.conn.execute(" UNION ALL ".join([part] * len(bands)), per_band):
                ids[aid] = True
        window = rules.window_hours * HOUR
        if sig.keys:
            # The nearest in time on either side of the article, per key: two index walks
            # outward from its time (no sort of the window), all keys in one statement.
            part = (
                "SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ? "
                "AND moment BETWEEN ? AND ? ORDER BY moment DESC LIMIT ?) "
                "UNION ALL SELECT * FROM (SELECT article_id FROM story_keys WHERE key = ? "
                "AND moment > ? AND moment <= ? ORDER BY moment LIMIT ?)"
            )
            args: list[Any] = []
            for key in sig.keys:
                args += [key, sig.moment - window, sig.moment, KEY_CANDIDATES]
                args += [key, sig.moment, sig.moment + window, KEY_CANDIDATES // 4]
            sql = " UNION ALL ".join([part] * len(sig.keys))
            for (aid,) in self.conn.execute(sql, args):
                ids.setdefault(aid, False)
        for aid, banded in ids.items():
            cached = self.cache.get(aid)
            if cached is not None:
                yield cached, banded
        wanted = [aid for aid in ids if aid not in self.cache]
        for chunk, marks in in_chunks(wanted):
            cursor = self.conn.execute(
                f"SELECT * FROM story_sigs WHERE article_id IN ({marks})", chunk
            )
            columns = [d[0] for d in cursor.description]
            for values in cursor:
                cand = Signature.from_row(dict(zip(columns, values, strict=True)))
                self.remember(cand)
                yield cand, ids[cand.article_id]


def place_pending(
    store: Store,
    rules: StoryRules,
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    pool: Executor | None = None,
    stop: threading.Event | None = None,
) -> PlaceReport:
    """Place every article that has no story yet, oldest first, in small transactions.

    Args:
        pool: worker processes to compute signatures in, a few batches ahead, while this process
            places them (the fetch passes its extraction pool, idle by then).
        stop: when set, placement ends after the current transaction; the rest stay pending.
    """
    conn = store.db.conn
    report = PlaceReport()
    started = time.perf_counter()
    index = SqlIndex(store)
    pending = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM articles WHERE story_id IS NULL "
            "ORDER BY COALESCE(published_at, first_seen_at), rowid"
        )
    ]
    chunks = [pending[i : i + 200] for i in range(0, len(pending), 200)]

    def signed() -> Iterator[list[Signature]]:
        if pool is None:
            for chunk in chunks:
                yield signatures_of(list(_article_rows(store, chunk)))
            return
        ahead: collections.deque[Future[list[Signature]]] = collections.deque()
        for chunk in chunks:
            ahead.append(pool.submit(signatures_of, list(_article_rows(store, chunk))))
            if len(ahead) > 4:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()

    for sigs in signed():
        if stop is not None and stop.is_set():
            break  # the rest stay pending for the next run
        with store.db.atomic():
            for sig in sigs:
                _place_one(store, index, sig, rules, now, report)
        if progress:
            progress(report.placed, len(pending))
    report.seconds = time.perf_counter() - started
    return report


def _article_rows(store: Store, ids: list[str]) -> Iterator[dict[str, Any]]:
    tags = tags_of(store, ids)
    marks = ",".join("?" * len(ids))
    cursor = store.db.conn.execute(
        f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id IN ({marks}) "
        "ORDER BY COALESCE(a.published_at, a.first_seen_at), a.rowid",
        ids,
    )
    columns = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(columns, values, strict=True))
        row["tags"] = tags.get(row["id"], [])
        yield row


def _place_one(
    store: Store,
    index: SqlIndex,
    sig: Signature,
    rules: StoryRules,
    now: datetime,
    report: PlaceReport,
) -> None:
    conn = store.db.conn
    found = matches(sig, index, rules)
    index.remember(sig)
    stamp = iso(now)
    reason = found[0].reason if found else None
    merged = False
    if found:
        story = _story_of(conn, found[0].article_id)
        report.count(found[0].reason)
        strong = [m.article_id for m in found if m.strength >= MERGE_STRENGTH]
        for other in _stories_of(conn, strong) - {story}:
            # This article bridges two stories (they arrived out of order): they are one.
            conn.execute("UPDATE articles SET story_id = ? WHERE story_id = ?", [story, other])
            conn.execute("DELETE FROM stories WHERE id = ?", [other])
            report.merged += 1
            merged = True
    else:
        moment = iso_ts(sig.moment)
        story = int(
            conn.execute(
                "INSERT INTO stories (lead_id, size, first_at, last_at, updated_at) "
                "VALUES (?, 1, ?, ?, ?)",
                [sig.article_id, moment, moment, stamp],
            ).lastrowid
            or 0
        )
        report.stories += 1
    conn.execute(
        "UPDATE articles SET story_id = ?, story_reason = ? WHERE id = ?",
        [story, reason, sig.article_id],
    )
    write_signatures(store, [sig])
    if merged:
        _refresh_story(store, story, stamp)
    elif found:
        _add_member(store, index, story, sig, stamp)
    report.placed += 1


def _story_of(conn: Any, aid: str) -> int:
    return int(conn.execute("SELECT story_id FROM articles WHERE id = ?", [aid]).fetchone()[0])


def _stories_of(conn: Any, ids: list[str]) -> set[int]:
    found: set[int] = set()
    for chunk, marks in in_chunks(ids):
        sql = f"SELECT DISTINCT story_id FROM articles WHERE id IN ({marks})"
        found.update(int(r[0]) for r in conn.execute(sql, chunk) if r[0] is not None)
    return found


def _add_member(
    store: Store, index: SqlIndex, story: int, sig: Signature, stamp: str | None
) -> None:
    """A story's size, lead and span after one more member: from the stored row and the lead's
    signature alone, not every member's (which made a story of n copies cost n^2)."""
    conn = store.db.conn
    row = conn.execute(
        "SELECT lead_id, size, first_at, last_at FROM stories WHERE id = ?", [story]
    ).fetchone()
    if row is None:
        _refresh_story(store, story, stamp)
        return
    lead_id, size, first, last = row
    lead = index.cache.get(lead_id) or _signature(conn, lead_id)
    if lead is None or lead_rank(sig) < lead_rank(lead):
        lead_id = sig.article_id
    moment = iso_ts(sig.moment)
    conn.execute(
        "UPDATE stories SET lead_id = ?, size = ?, first_at = ?, last_at = ?, updated_at = ? "
        "WHERE id = ?",
        [
            lead_id,
            size + 1,
            min(filter(None, (first, moment)), default=None),
            max(filter(None, (last, moment)), default=None),
            stamp,
            story,
        ],
    )


def _signature(conn: Any, aid: str) -> Signature | None:
    cursor = conn.execute("SELECT * FROM story_sigs WHERE article_id = ?", [aid])
    values = cursor.fetchone()
    if values is None:
        return None
    return Signature.from_row(dict(zip([d[0] for d in cursor.description], values, strict=True)))


def _refresh_story(store: Store, story: int, stamp: str | None) -> None:
    """Size, lead and time span of a story, from its members' signatures."""
    members = [
        Signature.from_row(r)
        for r in store.db.query(
            "SELECT g.* FROM story_sigs g JOIN articles a ON a.id = g.article_id "
            "WHERE a.story_id = ?",
            [story],
        )
    ]
    if not members:
        store.db.conn.execute("DELETE FROM stories WHERE id = ?", [story])
        return
    _, lead, size, first, last, _ = story_row(
        story, {m.article_id: lead_rank(m) for m in members}, stamp
    )
    store.db.conn.execute(
        "UPDATE stories SET lead_id = ?, size = ?, first_at = ?, last_at = ?, updated_at = ? "
        "WHERE id = ?",
        [lead, size, first, last, stamp, story],
    )


# ---------------------------------------------------------------- reading stories
def story_members(store: Store, story_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Per story: its members (id, title, url, source, lang, moment, reason), lead first."""
    wanted = sorted(set(story_ids))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk, marks in in_chunks(wanted):
        sql = (
            "SELECT a.story_id, a.id, a.title, a.url, a.source, a.lang, a.publisher, "
            "COALESCE(a.published_at, a.first_seen_at) AS moment, a.story_reason AS reason, "
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
    each with its lead's title, sources, languages and tags."""
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
        row["tags"] = sorted(
            {f"{t['kind']}:{t['slug']}" for m in group for t in tags.get(m["id"], [])}
        )
    return rows


def forget(store: Store, ids: list[str], now: datetime) -> None:
    """Drop articles about to be deleted from their stories (the caller holds the transaction)."""
    conn = store.db.conn
    for aid in ids:
        row = conn.execute("SELECT story_id FROM articles WHERE id = ?", [aid]).fetchone()
        for table in ("story_sigs", "story_bands", "story_keys"):
            conn.execute(f"DELETE FROM {table} WHERE article_id = ?", [aid])
        if row is not None and row[0] is not None:
            conn.execute("UPDATE articles SET story_id = NULL WHERE id = ?", [aid])
            _refresh_story(store, row[0], iso(now))


__all__ = [
    "PlaceReport",
    "SqlIndex",
    "forget",
    "list_stories",
    "place_pending",
    "story_members",
]
