"""Search results as a feed (Atom 1.0 or RSS 2.0), so a saved search reads in any feed reader.

One entry per story: its shown member's title, link and snippet, the story's other copies as
related links (Atom) and listed in the entry's content. Ids are stable (``tag:`` URIs built from
the article id and the query), so a reader polling the same search sees new entries only.
Snippet markers (``[`` ``]``) are dropped: a feed reader shows text, not our highlighting.
"""

from __future__ import annotations

import hashlib
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

ATOM = "http://www.w3.org/2005/Atom"
MARK = re.compile(r"[\[\]]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0


def feed(hits: Sequence[Mapping[str, Any]], fmt: str, query: str, now: datetime) -> str:
    """The hits (``Hit.as_dict()`` rows) as an ``atom`` or ``rss`` document."""
    title = f"tracker: {query}" if query else "tracker: newest articles"
    key = hashlib.sha1(query.encode()).hexdigest()[:12]
    return _atom(hits, title, key, now) if fmt == "atom" else _rss(hits, title, key, now)


def _clean(text: Any) -> str:
    return CONTROL.sub("", str(text or ""))


def _when(hit: Mapping[str, Any], now: datetime) -> datetime:
    value = hit.get("published_at")
    if value:
        try:
            moment = datetime.fromisoformat(str(value))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return now


def _content(hit: Mapping[str, Any]) -> str:
    """The entry's HTML: the snippet, then the story's other copies as links."""
    parts = [f"<p>{html.escape(MARK.sub('', _clean(hit.get('snippet'))))}</p>"]
    also = hit.get("also") or []
    if also:
        items = "".join(
            f'<li><a href="{html.escape(_clean(m.get("url")))}">{html.escape(_clean(m.get("title")))}'
            f"</a> ({html.escape(_clean(m.get('publisher') or m.get('source')))})</li>"
            for m in also
        )
        parts.append(f"<p>Also reported:</p><ul>{items}</ul>")
    return "".join(parts)


def _atom(hits: Sequence[Mapping[str, Any]], title: str, key: str, now: datetime) -> str:
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(root, f"{{{ATOM}}}title").text = _clean(title)
    ET.SubElement(root, f"{{{ATOM}}}id").text = f"tag:tracker,2026:search:{key}"
    newest = max((_when(h, now) for h in hits), default=now)
    ET.SubElement(root, f"{{{ATOM}}}updated").text = newest.isoformat()
    ET.SubElement(ET.SubElement(root, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "tracker"
    for hit in hits:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _clean(hit.get("title"))
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"tag:tracker,2026:article:{hit['id']}"
        ET.SubElement(entry, f"{{{ATOM}}}link", href=_clean(hit.get("url")), rel="alternate")
        for member in hit.get("also") or []:
            ET.SubElement(entry, f"{{{ATOM}}}link", href=_clean(member.get("url")), rel="related")
        when = _when(hit, now).isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = when
        ET.SubElement(entry, f"{{{ATOM}}}published").text = when
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = _clean(hit.get("source"))
        for tag in hit.get("tags") or []:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=f"{tag['kind']}:{tag['slug']}")
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="html")
        content.text = _content(hit)
        if hit.get("lang"):
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", _clean(hit["lang"]))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def _rss(hits: Sequence[Mapping[str, Any]], title: str, key: str, now: datetime) -> str:
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = _clean(title)
    ET.SubElement(channel, "link").text = f"tag:tracker,2026:search:{key}"
    ET.SubElement(channel, "description").text = "Search results from tracker"
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(now.astimezone(UTC), usegmt=True)
    for hit in hits:
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = _clean(hit.get("title"))
        ET.SubElement(item, "link").text = _clean(hit.get("url"))
        guid = ET.SubElement(item, "guid", isPermaLink="false")
        guid.text = f"tag:tracker,2026:article:{hit['id']}"
        ET.SubElement(item, "pubDate").text = format_datetime(
            _when(hit, now).astimezone(UTC), usegmt=True
        )
        ET.SubElement(item, "description").text = _content(hit)
        for tag in hit.get("tags") or []:
            ET.SubElement(item, "category").text = f"{tag['kind']}:{tag['slug']}"
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
