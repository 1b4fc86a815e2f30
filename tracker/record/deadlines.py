"""Dates that matter, read from an official document's own words.

The Federal Register gives ``effective_on`` and ``comments_close_on`` as fields; its ``dates``
text says more ("This rule is effective February 2, 2026. Comments must be received by March 3,
2026."; "The compliance date is ..."; a correction "delays the effective date ... until ...").
MOFCOM's notices write dates in Chinese ("自2025年12月1日起施行", "暂停实施至2026年11月27日").

A sentence with a date that matches no pattern is returned as not understood, so the caller can
log it; nothing is guessed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
MONTHS = {name: i for i, name in enumerate(MONTH_NAMES, 1)}
EN_DATE = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(\d{1,2}),\s*(\d{4})",
    re.IGNORECASE,
)
ZH_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# A sentence ends at a full stop after a lower-case letter or a figure ("U.S." does not end one).
# (A semicolon ends a clause with its own date: "effective May 1; comments due June 2".)
SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.])\s+(?=[A-Z])|(?<=[;。；])")
# The kind a sentence's date is, by the words around it; the first that matches wins.
EN_KINDS = (
    (
        "delayed-effective",
        re.compile(r"(?=.*\b(?:delay|postpone)[a-z]*\b)(?=.*\beffective\b)", re.I),
    ),
    ("comments-close", re.compile(r"\bcomments?\b.*\b(?:received|submitted|due|close)", re.I)),
    ("compliance", re.compile(r"\bcompliance date\b|\bcomply\b", re.I)),
    ("effective", re.compile(r"\beffective\b", re.I)),
    ("applicable", re.compile(r"\bapplicab(?:le|ility)\b", re.I)),
)
ZH_KINDS = (
    ("suspended-until", re.compile(r"暂停(?:实施|执行)?.{0,20}?至")),
    ("effective", re.compile(r"(?:起|开始)(?:施行|实施|执行|生效)|生效")),
)


@dataclass(frozen=True)
class Deadline:
    # effective, comments-close, compliance, delayed-effective, applicable, suspended-until
    kind: str
    on: date
    text: str  # the sentence it was read from


@dataclass
class DateReading:
    deadlines: list[Deadline]
    not_understood: list[str]  # sentences holding a date no pattern placed


def read_dates(text: str) -> DateReading:
    """Every date a ``dates`` text or a notice sets, with its kind."""
    out = DateReading([], [])
    seen: set[tuple[str, date]] = set()
    for part in SENTENCE_END.split(text or ""):
        sentence = " ".join(part.split())
        # "The rule published on January 15 is delayed until May 15": the date that is set
        # follows "until"; a publication date it mentions is no deadline.
        tail = re.split(r"\buntil\b|推迟至|延期至", sentence, flags=re.I)[-1]
        tail = re.sub(
            r"\b(?:published|dated|issued)\s+(?:on\s+)?" + EN_DATE.pattern, "", tail, flags=re.I
        )
        dates = _dates(tail)
        if not dates:
            continue
        kind = _kind(sentence)
        if kind is None:
            out.not_understood.append(sentence)
            continue
        for on in dates:
            if (kind, on) not in seen:
                seen.add((kind, on))
                out.deadlines.append(Deadline(kind, on, sentence))
    return out


def _dates(sentence: str) -> list[date]:
    found = []
    for month, day, year in EN_DATE.findall(sentence):
        found.append((int(year), MONTHS[month.lower()], int(day)))
    found += [(int(y), int(mo), int(d)) for y, mo, d in ZH_DATE.findall(sentence)]
    out = []
    for y, mo, d in found:
        try:
            out.append(date(y, mo, d))
        except ValueError:
            continue  # "February 30": not a date, never a deadline
    return out


def _kind(sentence: str) -> str | None:
    kinds = ZH_KINDS if re.search(r"[\u4e00-\u9fff]", sentence) else EN_KINDS
    return next((k for k, pattern in kinds if pattern.search(sentence)), None)


@dataclass(frozen=True)
class DocumentDeadline:
    """A deadline with the document that sets it, as ``tracker deadlines`` shows it."""

    kind: str
    on: date
    document: str  # document number or notice key
    title: str
    url: str
    lang: str | None
    citation: str
    action: str
    article_id: str | None
    story_id: int | None
    source: str  # where the date was read: the API's field, the dates text, the notice
    seq: int = 1  # the second and later dates of one kind in one document

    @property
    def uid(self) -> str:
        """Stable across runs and re-imports: the document and the kind of date."""
        more = f"-{self.seq}" if self.seq > 1 else ""
        return f"{self.document}-{self.kind}{more}@tracker"


FIELD_KINDS = (("effective_on", "effective"), ("comments_close_on", "comments-close"))


def document_deadlines(row: Mapping[str, Any]) -> tuple[list[DocumentDeadline], list[str]]:
    """The deadlines one stored document sets (its date fields, its ``dates`` text, a Chinese
    notice's text), once per kind and date; and the sentences holding a date not understood."""
    found: dict[tuple[str, date], str] = {}
    for column, kind in FIELD_KINDS:
        value = row.get(column)
        if value:
            with contextlib.suppress(ValueError):  # a malformed field sets nothing
                found.setdefault((kind, date.fromisoformat(str(value)[:10])), "field")
    not_understood: list[str] = []
    for text, where in ((row.get("dates") or "", "dates"), (row.get("notice_text") or "", "text")):
        reading = read_dates(text)
        for d in reading.deadlines:
            found.setdefault((d.kind, d.on), where)
        if where == "dates":  # a notice's whole text holds many dates that set nothing
            not_understood += reading.not_understood
    out = [
        DocumentDeadline(
            kind,
            on,
            str(row["document_number"]),
            str(row.get("title") or ""),
            str(row.get("url") or ""),
            row.get("lang"),
            str(row.get("citation") or ""),
            str(row.get("action") or ""),
            row.get("id"),
            row.get("story_id"),
            where,
        )
        for (kind, on), where in found.items()
    ]
    return out, not_understood


def suspension_deadline(row: Mapping[str, Any]) -> DocumentDeadline | None:
    """A list event running until a date ("until 2026-11-27") as a deadline on its notice."""
    for change in row.get("changed") or ():
        if str(change).startswith("until "):
            try:
                on = date.fromisoformat(str(change)[6:16])
            except ValueError:
                return None
            return DocumentDeadline(
                "suspended-until",
                on,
                str(row.get("document") or row.get("entry_id") or ""),
                str(row.get("title") or f"{row['event']}: {row['name']}"),
                str(row.get("url") or ""),
                row.get("lang"),
                str(row.get("citation") or ""),
                f"{row['event']} {row['name']}",
                row.get("article_id"),
                row.get("story_id"),
                "list event",
            )
    return None


def all_deadlines(
    documents: Iterable[Mapping[str, Any]], events: Iterable[Mapping[str, Any]]
) -> tuple[list[DocumentDeadline], list[tuple[str, str]]]:
    """Every deadline of the stored documents and list events, soonest first, once each (a
    notice's suspension is in its text and in the event it made); two dates of one kind in one
    document get UIDs of their own. Also (document, sentence) for each date not understood."""
    found: list[DocumentDeadline] = []
    unread: list[tuple[str, str]] = []
    for row in documents:
        got, not_understood = document_deadlines(row)
        found += got
        unread += [(str(row["document_number"]), s) for s in not_understood]
    found += [d for r in events if (d := suspension_deadline(r)) is not None]
    unique = {(d.document, d.kind, d.on): d for d in reversed(found)}
    seen: dict[tuple[str, str], int] = {}
    numbered = []
    for d in sorted(unique.values(), key=lambda d: (d.document, d.kind, d.on)):
        seen[(d.document, d.kind)] = seen.get((d.document, d.kind), 0) + 1
        numbered.append(replace(d, seq=seen[(d.document, d.kind)]))
    return sorted(numbered, key=lambda d: (d.on, d.document, d.kind)), unread


@dataclass(frozen=True)
class DeadlineChange:
    """A correction that set a date for another document (a delayed effective date)."""

    deadline: DocumentDeadline  # the new date, on the correcting document
    corrects: str  # the corrected document's number
    corrects_title: str  # its title when it is stored, else ""


def corrections_since(
    documents: Iterable[Mapping[str, Any]], since: datetime
) -> list[DeadlineChange]:
    """Deadlines set by corrections published from ``since``: what moved, and to when."""
    rows = list(documents)
    titles = {str(r["document_number"]): str(r.get("title") or "") for r in rows}
    out = []
    for row in rows:
        original = row.get("correction_of")
        published = row.get("published")
        if not original or not published:
            continue
        try:
            when = datetime.fromisoformat(str(published))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=since.tzinfo)
        if when < since:
            continue
        for d in document_deadlines(row)[0]:
            out.append(DeadlineChange(d, str(original), titles.get(str(original), "")))
    return sorted(out, key=lambda c: (c.deadline.on, c.corrects))
