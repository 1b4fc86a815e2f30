"""The search query language, compiled to SQLite FTS5.

Users type words (all must match), ``"phrases"``, ``OR``, ``-exclude``, ``prefix*``, ``title:word``
and inline filters ``company:nvidia``, ``source:NAME``, ``lang:zh``, ``entity:smic``,
``listed:entity-list``. Nothing they type reaches FTS5
unquoted, so FTS5 syntax errors cannot happen. Terms take the index's own form (folded, Han bigrams;
:func:`tracker.textnorm.index_form`), so 英偉達 finds 英伟达. A term that is a vocabulary alias also
matches the articles tagged with it (``tags:`` column), so 英伟达 finds English Nvidia stories.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from tracker.errors import QueryError
from tracker.tagging import KINDS
from tracker.textnorm import HAN_RE, first_control, index_form, tag_token

TOKEN = re.compile(r'\s*(?:(-?)(?:(\w+):)?"([^"]*)("?)|(\S+))')
FILTER = re.compile(r"^(-?)(\w+):(\S+)$")
RELATIVE = re.compile(r"^(\d+)\s*([hdwmy])$")
MAX_ALIAS_WORDS = 4

Expand = Callable[[str], list[str]]  # a term -> the tag ids it is an alias of
Covers = Callable[[str], bool]  # an alias -> whether its tags are on every article holding it


@dataclass
class Term:
    text: str
    exclude: bool = False
    prefix: bool = False
    phrase: bool = False
    column: str | None = None  # "title" for title:word
    tags: list[str] = field(default_factory=list)  # vocabulary tags this term also matches
    tag_only: bool = False  # company:nvidia inside an OR: matches the tag, not words
    by_tag: bool = False  # an alias its tag covers (every occurrence is tagged): match the tag only


@dataclass
class ParsedQuery:
    groups: list[list[Term]]  # OR-groups of AND-ed terms
    tags: list[str] = field(default_factory=list)  # inline kind:slug filters
    sources: list[str] = field(default_factory=list)
    lang: str | None = None
    entities: list[str] = field(default_factory=list)  # entity:ID filters, as typed
    listed: list[str] = field(default_factory=list)  # listed:LIST filters, as typed

    @property
    def expanded(self) -> dict[str, list[str]]:
        return {t.text: t.tags for g in self.groups for t in g if t.tags and not t.tag_only}

    @property
    def positive_terms(self) -> list[str]:
        return [t.text for g in self.groups for t in g if not (t.exclude or t.tag_only)]

    @property
    def all_tags(self) -> list[str]:
        """Every tag the query names: filters, and tags inside OR groups."""
        return [*self.tags, *(t.tags[0] for g in self.groups for t in g if t.tag_only)]


def parse_query(
    query: str, expand: Expand | None = None, covers: Covers | None = None
) -> ParsedQuery:
    """Parse ``query``; ``expand`` maps alias terms to tag ids (None: no expansion, ``--exact``).

    ``covers`` says which alias terms their tags cover entirely (``Tagger.covers``): those match
    through the tag alone, one index token instead of a phrase of Han bigrams, same articles.

    Raises:
        QueryError: an unclosed quote, a dangling OR, only exclusions, or nothing searchable; the
            message gives the 1-based position.
    """
    bad = first_control(query, allowed="\t\n\r")
    if bad is not None:
        raise QueryError(f"the query holds a control character at position {bad + 1}; remove it")
    parsed = ParsedQuery(groups=[[]])
    pos = 0
    last_was_or = False
    # With OR in the query, kind:slug is a term like any word ("company:nvidia OR
    # policy:entity-list"); without, it is a filter on the tag table (faster on common tags).
    tags_as_terms = bool(re.search(r"(?:^|\s)OR(?:\s|$)", query))
    while pos < len(query):
        if not query[pos:].strip():
            break
        match = TOKEN.match(query, pos)
        assert match is not None  # the pattern matches any non-blank text
        start = match.start() + len(match.group(0)) - len(match.group(0).lstrip())
        neg, column, quoted, closing, word = match.groups()
        pos = match.end()
        if quoted is not None:
            if not closing:
                raise QueryError(f'unclosed quote at position {start + 1}: add a closing "')
            if column not in (None, "title"):
                raise QueryError(f"unknown field {column!r} at position {start + 1}; use title:")
            term = Term(quoted, exclude=bool(neg), phrase=True, column=column)
        elif word == "OR":
            if last_was_or or not parsed.groups[-1]:
                raise QueryError(f"OR at position {start + 1} needs a word on each side")
            parsed.groups.append([])
            last_was_or = True
            continue
        else:
            tag = _tag_term(word) if tags_as_terms else None
            if tag is not None:
                parsed.groups[-1].append(tag)
                last_was_or = False
                continue
            if _take_filter(word, parsed, start):
                continue
            exclude = word.startswith("-") and len(word) > 1
            word = word[1:] if exclude else word
            column = None
            if word.startswith("title:") and len(word) > 6:
                column, word = "title", word[6:]
            prefix = word.endswith("*") and len(word) > 1
            term = Term(word.rstrip("*") if prefix else word, exclude, prefix, column=column)
        last_was_or = False
        if index_form(term.text).split() and any(ch.isalnum() for ch in term.text):
            parsed.groups[-1].append(term)
    if last_was_or:
        raise QueryError("the query ends with OR; add a word after it")
    for group in parsed.groups:
        if group and all(t.exclude for t in group):
            raise QueryError("a query needs at least one word that is not excluded with '-'")
    parsed.groups = [_join_aliases(g, expand, covers) if expand else g for g in parsed.groups if g]
    filters = parsed.tags or parsed.sources or parsed.lang or parsed.entities or parsed.listed
    if not parsed.groups and not filters:
        raise QueryError("the query has no searchable words")
    return parsed


def _tag_term(word: str) -> Term | None:
    match = FILTER.match(word)
    if not match or match.group(2).lower() not in KINDS:
        return None
    tag = f"{match.group(2).lower()}:{match.group(3).lower()}"
    return Term(tag, exclude=bool(match.group(1)), tags=[tag], tag_only=True)


def _take_filter(word: str, parsed: ParsedQuery, start: int) -> bool:
    """Inline filters: kind:slug (a tag), source:NAME, lang:CODE, entity:ID, listed:LIST. True
    when ``word`` was one."""
    match = FILTER.match(word)
    if not match or match.group(1):
        return False
    key, value = match.group(2).lower(), match.group(3)
    if key in KINDS:
        parsed.tags.append(f"{key}:{value.lower()}")
    elif key == "source":
        parsed.sources.append(value)
    elif key == "lang":
        parsed.lang = value
    elif key == "entity":
        parsed.entities.append(value)
    elif key == "listed":
        parsed.listed.append(value)
    else:
        return False  # title:word, or not a filter at all (a URL, a ratio like 3:1): words
    return True


def _join_aliases(group: list[Term], expand: Expand, covers: Covers | None = None) -> list[Term]:
    """Join runs of plain words that together are a vocabulary alias (Entity List), longest
    first, and attach each term's tags."""
    out: list[Term] = []
    i = 0
    while i < len(group):
        term = group[i]
        joined = None
        if _plain(term):
            for n in range(min(MAX_ALIAS_WORDS, len(group) - i), 1, -1):
                run = group[i : i + n]
                if all(_plain(t) for t in run):
                    text = " ".join(t.text for t in run)
                    tags = expand(text)
                    if tags:
                        joined = Term(text, phrase=True, tags=tags)
                        i += n
                        break
        if joined is None:
            if not term.exclude and not term.prefix and not term.tag_only:
                term.tags = expand(term.text)
                term.by_tag = bool(term.tags) and covers is not None and covers(term.text)
            joined = term
            i += 1
        out.append(joined)
    return out


def _plain(term: Term) -> bool:
    return not (term.exclude or term.prefix or term.phrase or term.column or term.tag_only)


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
    if term.by_tag:
        return "(" + " OR ".join(f'tags : "{tag_token(t)}"' for t in term.tags) + ")"
    if term.tag_only:
        return f'tags : "{tag_token(term.tags[0])}"'
    tokens = index_form(term.text).split()
    quoted = '"' + " ".join(tokens).replace('"', '""') + '"'
    single_han = len(tokens) == 1 and len(tokens[0]) == 1 and HAN_RE.match(tokens[0])
    expr = quoted + " *" if term.prefix or single_han else quoted
    if term.column:
        return f"{term.column} : {expr}"
    if term.tags:
        alternatives = " OR ".join(f'tags : "{tag_token(t)}"' for t in term.tags)
        return f"({expr} OR {alternatives})"
    return expr


def parse_when(value: str, now: datetime) -> datetime:
    """``24h``, ``7d``, ``2w``, ``3m`` (30-day months), ``1y`` before ``now``, or an ISO date/time
    (UTC when no offset is given).

    Raises:
        QueryError: the value is neither.
    """
    value = value.strip()
    rel = RELATIVE.match(value)
    if rel:
        amount, unit = int(rel.group(1)), rel.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7, "m": 24 * 30, "y": 24 * 365}[unit]
        try:
            return now - timedelta(hours=amount * hours)
        except OverflowError:  # 99999999999d: before the year 1
            raise QueryError(
                f"{value!r} reaches back before the year 1; use a smaller span, or a date"
            ) from None
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
