"""Full-text search over stored articles: a safe query language compiled to SQLite FTS5.

Users type words, ``"phrases"``, ``OR``, ``-exclude`` and ``prefix*``; nothing they type reaches FTS5
unquoted, so FTS5 syntax errors cannot happen. Terms are put in the index's own form (folded, Han
bigrams; see :func:`tracker.textnorm.index_form`), so 英偉達 finds 英伟达.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.errors import QueryError
from tracker.store import Store, iso
from tracker.tagging import RELEVANT
from tracker.textnorm import HAN_RE, fold_chars, index_form

TOKEN = re.compile(r'\s*(?:(-?)"([^"]*)("?)|(\S+))')
RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")


@dataclass
class Term:
    text: str
    exclude: bool = False
    prefix: bool = False
    phrase: bool = False


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
        }


def parse_query(query: str) -> list[list[Term]]:
    """The query as OR-groups of AND-ed terms.

    Raises:
        QueryError: an unclosed quote, a dangling OR, or nothing searchable; the message gives the
            1-based position.
    """
    groups: list[list[Term]] = [[]]
    pos = 0
    last_was_or = False
    while pos < len(query):
        if not query[pos:].strip():
            break
        match = TOKEN.match(query, pos)
        assert match is not None  # the pattern matches any non-blank text
        start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        neg, quoted, closing, word = match.groups()
        pos = match.end()
        if quoted is not None:
            if not closing:
                raise QueryError(f'unclosed quote at position {start + 1}: add a closing "')
            term = Term(quoted, exclude=bool(neg), phrase=True)
        elif word == "OR":
            if last_was_or or not groups[-1]:
                raise QueryError(f"OR at position {start + 1} needs a word on each side")
            groups.append([])
            last_was_or = True
            continue
        else:
            exclude = word.startswith("-") and len(word) > 1
            word = word[1:] if exclude else word
            prefix = word.endswith("*") and len(word) > 1
            term = Term(word.rstrip("*") if prefix else word, exclude=exclude, prefix=prefix)
        last_was_or = False
        if index_form(term.text).split() and _searchable(term.text):
            groups[-1].append(term)
    if last_was_or:
        raise QueryError("the query ends with OR; add a word after it")
    for group in groups:
        if group and all(t.exclude for t in group):
            raise QueryError("a query needs at least one word that is not excluded with '-'")
    groups = [g for g in groups if g]
    if not groups:
        raise QueryError("the query has no searchable words")
    return groups


def _searchable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def to_fts(groups: list[list[Term]]) -> str:
    """An FTS5 MATCH expression in which every user term is a quoted string."""
    ors = []
    for group in groups:
        positive = [_fts_term(t) for t in group if not t.exclude]
        negative = [_fts_term(t) for t in group if t.exclude]
        expr = " AND ".join(positive)
        for neg in negative:
            expr = f"({expr}) NOT {neg}"
        ors.append(f"({expr})")
    return " OR ".join(ors)


def _fts_term(term: Term) -> str:
    tokens = index_form(term.text).split()
    quoted = '"' + " ".join(tokens).replace('"', '""') + '"'
    single_han = len(tokens) == 1 and len(tokens[0]) == 1 and HAN_RE.match(tokens[0])
    return quoted + " *" if term.prefix or single_han else quoted


def parse_when(value: str, now: datetime) -> datetime:
    """``7d``, ``24h``, ``2w`` before ``now``, or an ISO date/time (UTC when no offset is given).

    Raises:
        QueryError: the value is neither.
    """
    value = value.strip()
    rel = RELATIVE.match(value)
    if rel:
        amount, unit = int(rel.group(1)), rel.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7}[unit]
        return now - timedelta(hours=amount * hours)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise QueryError(
                f"cannot read the time {value!r}; use 7d, 24h, 2w or a date like 2025-08-12"
            ) from None
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
) -> list[Hit]:
    """Articles matching ``query`` and every filter, best first (newest first with no query).

    Args:
        tags: ``kind:slug`` tags the article must all carry.
        known_tags: the vocabulary's tag ids, to refuse a misspelt tag instead of finding nothing.
        relevant: only articles about the tracker's topic (relevance at least ``RELEVANT``).

    Raises:
        QueryError: the query or a filter cannot be understood.
    """
    tags = list(tags)
    if known_tags is not None:
        _check_tags(tags, set(known_tags))
    where: list[str] = []
    params: list[Any] = []
    for tag in tags:
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
    source_list = list(sources)
    if source_list:
        where.append(f"a.source IN ({','.join('?' * len(source_list))})")
        params += source_list
    terms: list[Term] = []
    if query.strip():
        groups = parse_query(query)
        terms = [t for g in groups for t in g if not t.exclude]
        sql = (
            "SELECT a.*, bm25(articles_fts, 5.0, 1.0, 0.5) AS score FROM articles_fts "
            "JOIN articles a ON a.rowid = articles_fts.rowid WHERE articles_fts MATCH ?"
        )
        params.insert(0, to_fts(groups))
        sql += "".join(f" AND {w}" for w in where) + " ORDER BY score LIMIT ?"
    else:
        sql = "SELECT a.*, NULL AS score FROM articles a"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {moment} DESC LIMIT ?"
    params.append(limit)
    rows = list(store.db.query(sql, params))
    tag_map = store.tags_for([r["id"] for r in rows])
    return [
        Hit(
            id=r["id"],
            url=r["url"],
            title=r["title"],
            source=r["source"],
            published_at=r["published_at"],
            lang=r["lang"],
            snippet=make_snippet(r["text"] or r["summary"] or "", [t.text for t in terms]),
            tags=tag_map.get(r["id"], []),
            score=round(-r["score"], 3) if r["score"] is not None else None,
            relevance=r["relevance"],
        )
        for r in rows
    ]


def _check_tags(tags: list[str], known: set[str]) -> None:
    for tag in tags:
        if tag not in known:
            close = difflib.get_close_matches(tag, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else "; see 'tracker tags list'"
            if ":" not in tag:
                hint = "; tags are written kind:slug, e.g. company:nvidia"
            raise QueryError(f"unknown tag {tag!r}{hint}")


def make_snippet(text: str, terms: list[str], width: int = 180) -> str:
    """A passage of ``text`` around the first term found, with each match wrapped in [ ]."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    folded = fold_chars(flat)
    if len(folded) != len(flat):  # lower-casing changed lengths (rare): positions would not line up
        return flat[:width]
    needles = sorted({fold_chars(t) for t in terms if t.strip()}, key=len, reverse=True)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        for m in re.finditer(re.escape(needle), folded):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    if not spans:
        return flat[:width] + ("…" if len(flat) > width else "")
    spans.sort()
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(flat), start + width)
    out, cursor = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(flat[cursor:s] + "[" + flat[s:e] + "]")
        cursor = e
    out.append(flat[cursor:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")
