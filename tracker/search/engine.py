"""Running searches: filters, ranking, snippets. The query language is :mod:`tracker.search.query`."""

from __future__ import annotations

import difflib
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.errors import QueryError
from tracker.search.query import Covers, Expand, ParsedQuery, parse_query, parse_when, to_fts
from tracker.search.snippets import make_snippet, mark_matches
from tracker.store import Store, iso
from tracker.store.stories import story_members
from tracker.tagging.tagger import RELEVANT

__all__ = [
    "SORTS",
    "Hit",
    "make_snippet",
    "mark_matches",
    "parse_query",
    "parse_when",
    "search",
    "to_fts",
]
SORTS = ("relevance", "newest", "oldest")
COMMON_TAG = 2_000  # tag filters on more articles than this walk the date index instead
LARGE_MATCH = 10_000  # above this many matches, rank among the most recent ones
RECENT_SLICE = 100_000  # newest articles a phrase or prefix query is answered from, when enough
TAG_RERANK = 3  # candidates per result when headlines naming a queried tag are moved up
CANDIDATES_PER_RESULT = 20  # ranked candidates read per result when filters may reject some
COLLAPSE_READ = 3  # when copies left too few rows, read this many times more
MAX_READ = 10_000


@dataclass
class Hit:
    """One search result, as every output format shows it."""

    id: str
    url: str
    title: str
    source: str
    published_at: str | None
    lang: str | None
    snippet: str
    tags: list[dict[str, Any]] = field(default_factory=list)
    score: float | None = None
    relevance: float | None = None
    expanded: dict[str, list[str]] = field(default_factory=dict)  # query terms matched via tags
    story_id: int | None = None
    story_size: int = 1
    also: list[dict[str, Any]] = field(default_factory=list)  # the story's other members

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "source": self.source,
            "published_at": self.published_at,
            "lang": self.lang,
            "snippet": self.snippet,
            "tags": [
                {k: t[k] for k in ("kind", "slug", "name", "count", "in_title") if k in t}
                for t in self.tags
            ],
            "score": self.score,
            "relevance": self.relevance,
            "expanded": self.expanded,
            "story_id": self.story_id,
            "story_size": self.story_size,
            "also": self.also,
        }


def search(
    store: Store,
    query: str = "",
    *,
    tags: Iterable[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    lang: str | None = None,
    sources: Iterable[str] = (),
    limit: int = 20,
    known_tags: Iterable[str] | None = None,
    relevant: bool = False,
    expand: Expand | None = None,
    covers: Covers | None = None,
    raw: bool = False,
    sort: str = "relevance",
    collapse: bool = True,
) -> list[Hit]:
    """Articles matching ``query`` and every filter, best first (newest first with no query).

    Args:
        tags: ``kind:slug`` tags the article must all carry (the query's own are added).
        known_tags: the vocabulary's tag ids, to refuse a misspelt tag instead of finding nothing.
        relevant: only articles about the tracker's topic (relevance at least ``RELEVANT``).
        expand: maps a query term to the tags it is an alias of (None: match the words only).
        covers: which aliases their tags cover entirely (``Tagger.covers``): matched by the tag.
        raw: ``query`` is FTS5 syntax, passed through (for experts).
        sort: ``relevance``, ``newest`` or ``oldest``.
        collapse: show each story once, as its best-ranked member (False: every copy).

    Raises:
        QueryError: the query or a filter cannot be understood.
    """
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; use {', '.join(SORTS)}")
    parsed = ParsedQuery(groups=[])
    if query.strip() and not raw:
        parsed = parse_query(query, expand, covers)
    if known_tags is not None:
        _check_tags([*tags, *parsed.all_tags], set(known_tags))
    tags = [*tags, *parsed.tags]
    sources = [*sources, *parsed.sources]
    lang = lang or parsed.lang
    where: list[str] = []
    params: list[Any] = []
    for tag in tags:
        # A common tag: walk articles newest first and check each (stops after `limit`); a rare
        # one: start from its few articles and sort them. The planner cannot tell them apart.
        if store.tag_frequency(tag) > COMMON_TAG:
            where.append(
                "EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = ?)"
            )
        else:
            where.append("a.id IN (SELECT article_id FROM article_tags WHERE tag_id = ?)")
        params.append(tag)
    moment = "COALESCE(a.published_at, a.first_seen_at)"
    if since is not None:
        where.append(f"{moment} >= ?")
        params.append(iso(since))
    if until is not None:
        where.append(f"{moment} <= ?")
        params.append(iso(until))
    if lang:
        where.append("(lower(a.lang) = lower(?) OR lower(a.lang) LIKE lower(?) || '-%')")
        params += [lang, lang]
    if relevant:
        where.append("a.relevance >= ?")
        params.append(RELEVANT)
    if sources:
        where.append(f"a.source IN ({','.join('?' * len(sources))})")
        params += sources
    order = {"newest": f"{moment} DESC", "oldest": f"{moment} ASC"}
    match = query.strip() if raw else (to_fts(parsed.groups) if parsed.groups else "")
    # Collapsing drops copies: read the limit, and read again, three times as many, only when
    # copies left too few rows (most searches never do).
    wanted = limit
    while True:
        if match:
            rows = _ranked(
                store,
                match,
                where,
                params,
                order.get(sort, "s.score"),
                wanted,
                raw,
                need=limit,
                costly=any(
                    t.prefix or (t.phrase and " " in t.text) for g in parsed.groups for t in g
                ),
                title_tags=sorted({tag for g in parsed.groups for t in g for tag in t.tags}),
            )
        else:
            sql = "SELECT a.*, NULL AS score FROM articles a"
            if where:
                sql += " WHERE " + " AND ".join(where)
            sql += f" ORDER BY {order.get(sort, order['newest'])} LIMIT ?"
            rows = list(store.db.query(sql, [*params, wanted]))
        if not collapse:
            break
        kept = _one_per_story(rows)
        if len(kept) >= limit or len(rows) < wanted or wanted >= MAX_READ:
            rows = kept[:limit]
            break
        wanted = min(wanted * COLLAPSE_READ, MAX_READ)
    members = story_members(store, [r["story_id"] for r in rows if r.get("story_id") is not None])
    tag_map = store.tags_for([r["id"] for r in rows])
    terms = parsed.positive_terms or _raw_words(query if raw else "")
    return [
        Hit(
            id=r["id"],
            url=r["url"],
            title=r["title"],
            source=r["source"],
            published_at=r["published_at"],
            lang=r["lang"],
            snippet=make_snippet(r["text"] or r["summary"] or "", terms),
            tags=tag_map.get(r["id"], []),
            score=round(-r["score"], 3) if r["score"] is not None else None,
            relevance=r["relevance"],
            expanded=parsed.expanded,
            story_id=r.get("story_id"),
            story_size=max(1, len(members.get(r.get("story_id") or 0, []))),
            also=[
                {k: m[k] for k in ("id", "title", "url", "source", "publisher", "moment")}
                for m in members.get(r.get("story_id") or 0, [])
                if m["id"] != r["id"]
            ],
        )
        for r in rows
    ]


def _one_per_story(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first (best-ranked) row of each story; rows not yet placed stand alone."""
    seen: set[int] = set()
    out = []
    for row in rows:
        story = row.get("story_id")
        if story is not None:
            if story in seen:
                continue
            seen.add(story)
        out.append(row)
    return out


def _ranked(
    store: Store,
    match: str,
    where: list[str],
    params: list[Any],
    order: str,
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
        found = store.db.conn.execute(sql, args).fetchall()
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
        for r in store.db.conn.execute(
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
    top = store.db.conn.execute("SELECT max(rowid) FROM articles").fetchone()[0] or 0
    cap = max(limit, need * CANDIDATES_PER_RESULT) if where else limit

    def walk(expr: str, above: int) -> list[int]:
        sql = (
            "SELECT a.rowid FROM (SELECT rowid FROM articles_fts "
            "WHERE articles_fts MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT ?) s "
            "JOIN articles a ON a.rowid = s.rowid"
            + "".join(f" AND {w}" for w in where)
            + " ORDER BY a.rowid DESC"
        )
        return [r[0] for r in store.db.conn.execute(sql, [expr, above, cap, *params])]

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
    row = store.db.conn.execute(
        "SELECT min(rowid), count(*) FROM (SELECT rowid FROM articles_fts "
        "WHERE articles_fts MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT ?)",
        [match, above, LARGE_MATCH + 1],
    ).fetchone()
    total = int(row[1])
    return (int(row[0]) if total > LARGE_MATCH else max(above, 0)), total


def _raw_words(query: str) -> list[str]:
    return [w for w in re.findall(r"\w+", query) if w not in ("AND", "OR", "NOT", "NEAR")]


def _check_tags(tags: list[str], known: set[str]) -> None:
    for tag in tags:
        if tag not in known:
            close = difflib.get_close_matches(tag, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see 'tracker tags list'"
            if ":" not in tag:
                hint = "; tags are written kind:slug, e.g. company:nvidia"
            raise QueryError(f"unknown tag {tag!r}{hint}")
