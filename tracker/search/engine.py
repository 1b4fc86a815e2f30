"""Running searches: filters, ranking, snippets. The query language is :mod:`tracker.search.query`."""

from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.errors import QueryError
from tracker.search import LANGS, SORTS, known_lang
from tracker.search.query import Covers, Expand, ParsedQuery, parse_query, parse_when, to_fts
from tracker.search.snippets import make_snippet, mark_matches
from tracker.store import Store
from tracker.store.entities import entities_of
from tracker.store.search import Filters, newest, ranked
from tracker.store.stories import story_members
from tracker.tagging.tagger import RELEVANT
from tracker.textnorm import HAN_RE, detect_lang

log = logging.getLogger(__name__)

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
    score: float = 0.0  # the match's strength (higher is better); 0 without a query
    rank_by: str = "match"  # what the order follows: match, newest or oldest
    relevance: float | None = None
    expanded: dict[str, list[str]] = field(default_factory=dict)  # query terms matched via tags
    story_id: int | None = None
    story_size: int = 1
    also: list[dict[str, Any]] = field(default_factory=list)  # the story's other members
    entities: list[dict[str, Any]] = field(default_factory=list)  # listed entities it names

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
            "rank_by": self.rank_by,
            "relevance": self.relevance,
            "expanded": self.expanded,
            "story_id": self.story_id,
            "story_size": self.story_size,
            "also": self.also,
            "entities": self.entities,
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
    lang = _check_lang(lang or parsed.lang)
    filters = Filters(
        entities=entity_ids(store, parsed.entities),
        listed=list_codes(parsed.listed),
        tags=tags,
        since=since,
        until=until,
        lang=lang,
        min_relevance=RELEVANT if relevant else None,
        sources=sources,
    )
    match = query.strip() if raw else (to_fts(parsed.groups) if parsed.groups else "")
    started = time.perf_counter()
    log.info(
        "query %r: FTS5 %r; expanded %s; filters %s",
        query,
        match or "(none: newest first)",
        parsed.expanded or "nothing",
        {
            k: v.isoformat(timespec="minutes") if isinstance(v, datetime) else v
            for k, v in vars(filters).items()
            if v not in (None, [], ())
        }
        or "none",
    )
    # Collapsing drops copies: read the limit, and read again, three times as many, only when
    # copies left too few rows (most searches never do).
    wanted = limit
    while True:
        if match:
            rows = ranked(
                store,
                match,
                filters,
                sort,
                wanted,
                raw,
                need=limit,
                costly=any(
                    t.prefix or (t.phrase and " " in t.text) for g in parsed.groups for t in g
                ),
                title_tags=sorted({tag for g in parsed.groups for t in g for tag in t.tags}),
            )
        else:
            rows = newest(store, filters, "oldest" if sort == "oldest" else "newest", wanted)
        if not collapse:
            break
        kept = _one_per_story(rows, query_lang(parsed.positive_terms) if match else None)
        if len(kept) >= limit or len(rows) < wanted or wanted >= MAX_READ:
            rows = kept[:limit]
            break
        wanted = min(wanted * COLLAPSE_READ, MAX_READ)
    log.info(
        "read up to %d rows, %d shown (%s; a story shown in %s) in %.0f ms",
        wanted,
        len(rows),
        "one per story" if collapse else "every copy",
        (query_lang(parsed.positive_terms) if match else None) or "its best-ranked language",
        (time.perf_counter() - started) * 1000,
    )
    members = story_members(store, [r["story_id"] for r in rows if r.get("story_id") is not None])
    tag_map = store.tags_for([r["id"] for r in rows])
    named = entities_of(store, [r["id"] for r in rows])
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
            entities=named.get(r["id"], []),
            score=round(-r["score"], 3) if r["score"] is not None else 0.0,
            rank_by="match"
            if match and sort == "relevance"
            else sort
            if match
            else ("oldest" if sort == "oldest" else "newest"),
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


def _one_per_story(rows: list[dict[str, Any]], lang: str | None = None) -> list[dict[str, Any]]:
    """One row per story, placed where its best-ranked row was; rows not yet placed stand alone.

    The row shown is the best-ranked member in ``lang`` (the query's language), else in the
    same language in the other script, else the best-ranked: an English query shows the
    English copy of a story, a simplified one the simplified copy, whichever ranked first.
    """

    def fit(row: dict[str, Any]) -> int:
        got = (row.get("lang") or "").lower()
        if lang is None or got == lang.lower():
            return 0
        return 1 if got.split("-")[0] == lang.lower().split("-")[0] else 2

    chosen: dict[int, dict[str, Any]] = {}
    order: list[int | dict[str, Any]] = []
    for row in rows:
        story = row.get("story_id")
        if story is None:
            order.append(row)
        elif story not in chosen:
            chosen[story] = row
            order.append(story)
        elif fit(row) < fit(chosen[story]):
            chosen[story] = row
    return [chosen[item] if isinstance(item, int) else item for item in order]


def query_lang(words: list[str]) -> str | None:
    """The language a query is written in (``en``, ``zh-Hans``, ``zh-Hant``); None for a query
    of filters only, or figures only."""
    text = " ".join(words)
    if HAN_RE.search(text):
        return detect_lang(text)
    return "en" if re.search("[A-Za-z]", text) else None


def entity_ids(store: Store, values: list[str]) -> list[str]:
    """entity:VALUE filters as entity ids: an id, a vocabulary company, or any of its names."""
    from tracker.record.names import name_keys
    from tracker.store.entities import find_entities

    ids = []
    for value in values:
        found = find_entities(store, value.lower(), name_keys([value.replace("-", " ")]))
        if len(found) != 1:
            what = "no entity" if not found else f"{len(found)} entities"
            raise QueryError(
                f"entity:{value}: {what} of that name; find its id with 'tracker entity NAME'"
            )
        ids.append(found[0]["id"])
    return ids


def list_codes(values: list[str]) -> list[str]:
    from tracker.record import LIST_NAMES, list_code_for

    codes = []
    for value in values:
        code = list_code_for(value)
        if code is None:
            raise QueryError(
                f"listed:{value}: no such list; use entity-list or a code: {', '.join(LIST_NAMES)}"
            )
        codes.append(code)
    return codes


def _raw_words(query: str) -> list[str]:
    return [w for w in re.findall(r"\w+", query) if w not in ("AND", "OR", "NOT", "NEAR")]


def _check_lang(lang: str | None) -> str | None:
    """The language filter in its canonical spelling; a code we never store is refused rather
    than quietly matching nothing."""
    if lang is None:
        return None
    known = known_lang(lang)
    if known is None:
        raise QueryError(f"unknown language {lang!r}; use one of {', '.join(LANGS)}")
    return known


def _check_tags(tags: list[str], known: set[str]) -> None:
    for tag in tags:
        if tag not in known:
            close = difflib.get_close_matches(tag, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see 'tracker tags list'"
            if ":" not in tag:
                hint = "; tags are written kind:slug, e.g. company:nvidia"
            raise QueryError(f"unknown tag {tag!r}{hint}")
