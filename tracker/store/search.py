"""SQL of search: the filters, ranking inside the full-text index, and reading the rows shown.

The query language (compiled to FTS5 ``MATCH`` text) is :mod:`tracker.search.query`; collapsing
copies, snippets and results are :mod:`tracker.search.engine`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.errors import QueryError
from tracker.store.connection import iso, moment
from tracker.store.core import Store

COMMON_TAG = 2_000  # tag filters on more articles than this walk the date index instead
LARGE_MATCH = 10_000  # above this many matches, rank among the most recent ones
RECENT_SLICE = 100_000  # newest articles a phrase or prefix query is answered from, when enough
TAG_RERANK = 3  # candidates per result when headlines naming a queried tag are moved up
CANDIDATES_PER_RESULT = 20  # ranked candidates read per result when filters may reject some
_ORDER = {"newest": f"{moment('a')} DESC", "oldest": f"{moment('a')} ASC"}


@dataclass
class Filters:
    """What every result must satisfy besides the words."""

    tags: Iterable[str] = ()
    since: datetime | None = None
    until: datetime | None = None
    lang: str | None = None
    min_relevance: float | None = None
    sources: Iterable[str] = field(default_factory=tuple)
    entities: Iterable[str] = ()  # entity ids: the article names each (by a list name or tag)
    listed: Iterable[str] = ()  # list codes: the article names an entity now on each

    def sql(self, store: Store) -> tuple[list[str], list[Any]]:
        """WHERE terms on ``articles a`` and their parameters."""
        where: list[str] = []
        params: list[Any] = []
        for tag in self.tags:
            # A common tag: walk articles newest first and check each (stops after `limit`); a
            # rare one: start from its few articles and sort them. The planner cannot tell.
            if store.tag_frequency(tag, COMMON_TAG + 1) > COMMON_TAG:
                where.append(
                    "EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id "
                    "AND x.tag_id = ?)"
                )
            else:
                where.append("a.id IN (SELECT article_id FROM article_tags WHERE tag_id = ?)")
            params.append(tag)
        if self.since is not None:
            where.append(f"{moment('a')} >= ?")
            params.append(iso(self.since))
        if self.until is not None:
            where.append(f"{moment('a')} <= ?")
            params.append(iso(self.until))
        if self.lang:
            where.append("(lower(a.lang) = lower(?) OR lower(a.lang) LIKE lower(?) || '-%')")
            params += [self.lang, self.lang]
        if self.min_relevance is not None:
            where.append("a.relevance >= ?")
            params.append(self.min_relevance)
        sources = list(self.sources)
        if sources:
            where.append(f"a.source IN ({','.join('?' * len(sources))})")
            params += sources
        for entity in self.entities:
            where.append(f"a.id IN ({_NAMING_ENTITY})")
            params += [entity, entity, entity]
        for code in self.listed:
            where.append(f"a.id IN ({_NAMING_LISTED})")
            params += [code, code]
        return where, params


# Articles naming an entity: by one of its list names found in the text, or by the vocabulary
# company tag the entity was joined with.
# A parent's articles include those naming its listed subsidiaries (when the list says so).
_NAMING_ENTITY = (
    "SELECT m.article_id FROM entity_keys k JOIN article_mentions m ON m.key = k.key "
    "WHERE k.entity_id IN (SELECT id FROM entities WHERE id = ? OR parent = ?) "
    "UNION SELECT t.article_id FROM entities e "
    "JOIN article_tags t ON t.tag_id = e.tag WHERE e.id = ?"
)
_ON_LIST = (
    "SELECT m.entity_id FROM entity_members m JOIN list_entries l ON l.list_code = m.list_code "
    "AND l.entry_id = m.entry_id WHERE l.list_code = ? AND l.removed_at IS NULL"
)
_NAMING_LISTED = (
    "SELECT m.article_id FROM entity_keys k JOIN article_mentions m ON m.key = k.key "
    f"WHERE k.entity_id IN ({_ON_LIST}) UNION SELECT t.article_id FROM entities e "
    f"JOIN article_tags t ON t.tag_id = e.tag WHERE e.id IN ({_ON_LIST})"
)


def newest(store: Store, filters: Filters, sort: str, limit: int) -> list[dict[str, Any]]:
    """With no words: the newest (or oldest) articles that pass the filters."""
    where, params = filters.sql(store)
    sql = "SELECT a.*, NULL AS score FROM articles a"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {_ORDER[sort]} LIMIT ?"
    return list(store.db.query(sql, [*params, limit]))


def ranked(
    store: Store,
    match: str,
    filters: Filters,
    sort: str,
    limit: int,
    raw: bool,
    need: int | None = None,
    costly: bool = False,
    title_tags: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Rank inside the index first, then read and filter only the best candidates.

    Reading an article row costs far more than scoring it, so candidates are scored on the index
    alone. A word in a large share of a big store (over ``LARGE_MATCH`` articles) is scored among
    its most recent matches only: for a news tracker the best of the recent beats the best of all
    time. When filters leave too few of the candidates, the search runs again over all of them.
    A ``costly`` query (a phrase, a prefix) is first tried on the newest articles only, see
    :func:`_title_then_newest`.
    """
    need = need or limit
    where, params = filters.sql(store)
    order = _ORDER.get(sort, "s.score")
    try:
        if costly and order == "s.score":
            return _title_then_newest(store, match, where, params, limit, need, title_tags or [])
        floor, total = _window(store, match, 0)
    except sqlite3.OperationalError as exc:
        if raw:
            raise QueryError(f"FTS5 syntax error in --raw query: {exc}") from exc
        raise
    # ``limit`` rows are read (extra ones let copies of a story collapse); ``need`` must survive.
    # Filters rarely reject 19 of 20; if they do, a second pass ranks every match.
    rerank = bool(title_tags) and order == "s.score"
    pool = limit * TAG_RERANK if rerank else limit
    candidates = max(pool, need * CANDIDATES_PER_RESULT) if where else pool
    for cap in (candidates, None):
        inner = (
            "SELECT rowid, bm25(articles_fts, 5.0, 1.0, 0.5, 2.0) AS score FROM articles_fts "
            "WHERE articles_fts MATCH ? AND rowid > ? ORDER BY score" + (" LIMIT ?" if cap else "")
        )
        # Filters first, on the row alone: a rejected candidate's text (in overflow pages) is
        # never read. Then whole rows for the few that are shown.
        sql = (
            f"SELECT a.rowid AS rowid_, s.score AS score FROM ({inner}) s "
            "JOIN articles a ON a.rowid = s.rowid"
            + "".join(f" AND {w}" for w in where)
            + f" ORDER BY {order} LIMIT ?"
        )
        args = [match, floor, *([cap] if cap else []), *params, pool]
        found = store.db.execute(sql, args).fetchall()
        if len(found) >= need or cap is None or total <= (cap or 0):
            break
    if rerank:
        found = _headlines_first(store, found, title_tags or [])
    return _rows_by_rowid(store, found[:limit])


def _headlines_first(
    store: Store, found: list[tuple[int, float]], tags: list[str]
) -> list[tuple[int, float]]:
    """Best-scored candidates whose headline names a queried tag first, each group by score.

    bm25 alone falls short across languages: an English article that names Nvidia once in
    passing matches both the word and the tag, a Chinese headline about Nvidia only the tag.
    """
    named = _tag_in_headline(store, [rowid for rowid, _ in found], tags)
    return sorted(found, key=lambda f: f[0] not in named)  # stable: score order within each


def _tag_in_headline(store: Store, rowids: list[int], tags: list[str]) -> set[int]:
    """The articles (by rowid) whose title names one of ``tags``."""
    if not rowids or not tags:
        return set()
    marks, tag_marks = ",".join("?" * len(rowids)), ",".join("?" * len(tags))
    return {
        r[0]
        for r in store.db.execute(
            f"SELECT a.rowid FROM articles a JOIN article_tags t ON t.article_id = a.id "
            f"WHERE a.rowid IN ({marks}) AND t.tag_id IN ({tag_marks}) AND t.in_title = 1",
            [*rowids, *tags],
        )
    }


def _rows_by_rowid(store: Store, found: list[tuple[int, float | None]]) -> list[dict[str, Any]]:
    """Whole article rows for (rowid, score) pairs, in their order."""
    if not found:
        return []
    marks = ",".join("?" * len(found))
    rows = {
        r["rowid_"]: r
        for r in store.db.query(
            f"SELECT a.*, a.rowid AS rowid_ FROM articles a WHERE a.rowid IN ({marks})",
            [rowid for rowid, _ in found],
        )
    }
    return [{**rows[rowid], "score": score} for rowid, score in found if rowid in rows]


def _title_then_newest(
    store: Store,
    match: str,
    where: list[str],
    params: list[Any],
    limit: int,
    need: int,
    tags: list[str],
) -> list[dict[str, Any]]:
    """Phrase and prefix matches: headline matches first (the words in the title, or an alias's
    tag named in it), then the rest, each newest first. Answered from the newest
    ``RECENT_SLICE`` articles when they hold ``need`` matches, else from all.

    bm25 is not used here: for a phrase or a prefix FTS5 computes its document frequency by
    reading every article that holds the words (or, for a prefix, merging every posting of
    every matching word), whatever the range asked for. Walks newest first stop early.
    """
    top = store.db.execute("SELECT max(rowid) FROM articles").fetchone()[0] or 0
    cap = max(limit, need * CANDIDATES_PER_RESULT) if where else limit

    def walk(expr: str, above: int) -> list[int]:
        sql = (
            "SELECT a.rowid FROM (SELECT rowid FROM articles_fts "
            "WHERE articles_fts MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT ?) s "
            "JOIN articles a ON a.rowid = s.rowid"
            + "".join(f" AND {w}" for w in where)
            + " ORDER BY a.rowid DESC"
        )
        return [r[0] for r in store.db.execute(sql, [expr, above, cap, *params])]

    above = max(0, top - RECENT_SLICE)
    rest = walk(match, above)
    if len(rest) < need and above:
        above = 0
        rest = walk(match, above)
    in_title = walk(f"{{title}} : ({match})", above)
    headline = set(in_title) | _tag_in_headline(store, rest, tags)
    ordered = sorted({*in_title, *rest}, key=lambda rowid: (rowid not in headline, -rowid))
    return _rows_by_rowid(store, [(rowid, None) for rowid in ordered[:limit]])


def _window(store: Store, match: str, above: int) -> tuple[int, int]:
    """(floor, matches) above rowid ``above``: the newest LARGE_MATCH + 1 matches, walked newest
    first, so the work is bounded however common the word; fewer means every match is ranked."""
    row = store.db.execute(
        "SELECT min(rowid), count(*) FROM (SELECT rowid FROM articles_fts "
        "WHERE articles_fts MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT ?)",
        [match, above, LARGE_MATCH + 1],
    ).fetchone()
    total = int(row[1])
    return (int(row[0]) if total > LARGE_MATCH else max(above, 0)), total
