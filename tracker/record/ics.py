"""Deadlines as an RFC 5545 calendar: all-day events a calendar client imports and updates.

Each event's UID is the document and the kind of date, so importing the calendar again updates
an event (a correction that moved the date) instead of adding a second one. Lines end in CRLF and
are folded at 75 octets without splitting a UTF-8 character; text values are escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tracker.record.deadlines import DocumentDeadline

LABELS = {
    "effective": ("Effective", "生效"),
    "comments-close": ("Comments close", "意见截止"),
    "compliance": ("Compliance date", "合规日期"),
    "delayed-effective": ("Effective (delayed)", "推迟生效"),
    "applicable": ("Applicable", "适用"),
    "suspended-until": ("Suspension ends", "暂停至"),
}


def label(kind: str, lang: str | None) -> str:
    """The kind of date in the document's language (Chinese for a Chinese notice)."""
    en, zh = LABELS.get(kind, (kind, kind))
    return zh if (lang or "").lower().startswith("zh") else en


def as_row(d: DocumentDeadline) -> dict[str, object]:
    """A deadline as ``tracker deadlines`` lists it (JSON, CSV) and the reader's page shows it."""
    return {
        "date": d.on.isoformat(),
        "kind": d.kind,
        "what": label(d.kind, d.lang),
        "document": d.document,
        "title": d.title,
        "citation": d.citation,
        "action": d.action,
        "id": d.article_id or "",
        "story_id": d.story_id,
        "url": d.url,
        "uid": d.uid,
        "read_from": d.source,
    }


def calendar(deadlines: Iterable[DocumentDeadline], now: datetime) -> str:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//tracker//export-control deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Export-control deadlines",
    ]
    for d in deadlines:
        description = "\n".join(
            part
            for part in (
                d.citation,
                d.action,
                f"Document {d.document}",
                f"tracker show {d.article_id[:8]}" if d.article_id else "",
            )
            if part
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_text(d.uid)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{d.on.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(d.on + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{_text(label(d.kind, d.lang) + ': ' + d.title)}",
            f"DESCRIPTION:{_text(description)}",
            "TRANSP:TRANSPARENT",
        ]
        if d.url:
            lines.append(f"URL:{d.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11); control characters dropped."""
    value = "".join(ch for ch in value if ch == "\n" or ch >= " ")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next after CRLF and a space (3.1)."""
    out, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)
