"""The ``mofcom`` kind: China's Ministry of Commerce announcements, from its yearly index pages.

Each announcement is keyed on its number (``tracker.record.notices``), so the same notice under
another URL layout is not stored twice. A designation (a title naming the unreliable entity
list, the export control list or the watch list) is also read into list entries and events:
the entities its text names, in Chinese and English.

The index markup could not be checked against a saved copy of the real pages (none was at
hand): the parser relies on nothing but links whose text carries an announcement number and a
date near each, which is what such index pages hold; README says so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

from tracker.ingest.sources.base import Collected, SourceKind, Visit
from tracker.models import FeedItem

log = logging.getLogger(__name__)

INDEX = "https://www.mofcom.gov.cn/zcfb/blgg/gg/{year}/index.html"
DATE = re.compile(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")


def parse_index(html: str, base_url: str) -> list[FeedItem]:
    """Every announcement linked from an index page, once per number, newest first as listed."""
    from bs4 import BeautifulSoup

    from tracker.record.notices import notice_number

    soup = BeautifulSoup(html, "html.parser")
    items: dict[str, FeedItem] = {}
    for a in soup.find_all("a", href=True):
        title = " ".join(str(a.get("title") or a.get_text(" ")).split())
        number = notice_number(title) or notice_number(a.get_text(" "))
        if number is None or number.key in items:
            continue
        holder = a.find_parent(["li", "tr", "div"]) or a
        found = DATE.search(holder.get_text(" "))
        published = None
        if found:
            try:
                d = date(*(int(g) for g in found.groups()))
                published = datetime(d.year, d.month, d.day, tzinfo=UTC)
            except ValueError:
                published = None
        items[number.key] = FeedItem(
            url=urljoin(base_url, str(a["href"])),
            title=title,
            published_at=published,
            guid=number.key,
            fields={"document_number": number.key, "citation": number.label},
        )
    return list(items.values())


def page_text(html: str) -> str:
    """A notice page's text, one line per block, for reading the entities it names."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer"]):
        tag.decompose()
    return "\n".join(line.strip() for line in soup.get_text("\n").splitlines() if line.strip())


def annex_links(html: str, base_url: str) -> list[str]:
    """Links to a notice's annexes (附件) that are pages we can read (HTML, not PDF or Word)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    links = []
    for a in soup.find_all("a", href=True):
        href = str(a["href"])
        if "附件" in a.get_text(" ") and href.lower().split("?")[0].endswith(
            (".html", ".htm", ".shtml")
        ):
            links.append(urljoin(base_url, href))
    return list(dict.fromkeys(links))


def _collect(visit: Visit) -> Collected:
    from tracker.ingest.sources.decode import decode_bytes

    source = visit.source
    years = source.options.get("years") or [visit.now.year]
    items: list[FeedItem] = []
    seen: set[str] = set()
    for year in years:
        url = source.url.replace("{year}", str(year))
        res = visit.get(url, "index")
        for item in parse_index(decode_bytes(res.content, res.charset), url):
            if item.guid not in seen:
                seen.add(item.guid)
                items.append(item)
    notes: list[str] = []
    if visit.store is not None:
        from tracker.store.record import known_documents

        # Every designation on the index not yet read (a page that failed is tried again),
        # then only the notices not stored under any URL become articles.
        notes = _designations(visit, items)
        known = known_documents(visit.store, [i.guid for i in items])
        items = [i for i in items if i.guid not in known]
    return Collected(items=items, fetch_pages=True, lang="zh-Hans", notes=notes)


def _designations(visit: Visit, items: list[FeedItem]) -> list[str]:
    """Read each new designation's entities into list entries and events."""
    from tracker.errors import FetchError, ParseError
    from tracker.ingest.sources.decode import decode_bytes
    from tracker.record.names import name_keys
    from tracker.record.notices import classify, notice_number, read_notice, title_action
    from tracker.store.record import apply_notice, rule_read

    store = visit.store
    assert store is not None
    notes = []
    # Oldest first: a removal listed above the listing it undoes must come after it.
    for item in sorted(items, key=lambda i: (i.published_at or visit.now, i.guid)):
        code, _ = classify(item.title)
        if code is None and title_action(item.title) is None:
            continue
        number = notice_number(item.title)
        if number is None or rule_read(store, number.key):
            continue
        try:
            res = visit.get(item.url, "notice")
        except FetchError as exc:
            notes.append(f"{number.label}: its page could not be read ({exc.reason}); next run")
            continue
        html = decode_bytes(res.content, res.charset)
        text = page_text(html)
        try:  # the entities are often in an annex page rather than the notice itself
            for annex in annex_links(html, item.url)[:3]:
                got = visit.get(annex, "annex")
                text += "\n" + page_text(decode_bytes(got.content, got.charset))
        except (FetchError, ParseError) as exc:
            # Read whole next run rather than list half its entities now.
            notes.append(f"{number.label}: its annex could not be read ({exc}); next run")
            continue
        notice = read_notice(number, item.title, text)
        problems = []
        if code is not None and not notice.entities:
            problems.append("no entity names found in its text or annex; nothing listed")
            notes.append(f"{number.label}: {problems[0]}")
        events = apply_notice(
            store,
            visit.source.name,
            {
                "key": number.key,
                "label": number.label,
                "list_code": notice.list_code,
                "action": notice.action,
                "published": item.published_at.date().isoformat() if item.published_at else "",
                "until": notice.until.isoformat() if notice.until else None,
                "targets": [(t.key, t.label) for t in notice.targets],
                "url": item.url,
                "problems": problems,
            },
            [
                {"name": en or zh, "names": [n for n in (zh, en) if n], "keys": name_keys([zh, en])}
                for zh, en in notice.entities
            ],
            visit.now,
        )
        if events:
            notes.append(f"{number.label}: {events} list event(s)")
    return notes


def _check(raw: Mapping[str, Any]) -> str | None:
    years = raw.get("years", [])
    if not all(isinstance(y, int) and 2000 <= y <= 2100 for y in years):
        return "years must be a list of years, such as [2025, 2026]"
    return None


MOFCOM = SourceKind(
    name="mofcom",
    official=True,
    keys={"years": list},
    default_url=INDEX,
    collect=_collect,
    check=_check,
)
