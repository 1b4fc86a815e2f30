"""RSS and Atom feeds, parsed by feedparser from bytes we fetched ourselves."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from tracker.errors import ParseError
from tracker.ingest.sources.base import Collected, SourceKind, Visit
from tracker.models import FeedItem, Source
from tracker.textnorm import clean_text

BLOCKS = [
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "blockquote",
    "pre",
    "ul",
    "ol",
]


@dataclass
class ParsedFeed:
    """A feed's items, plus the parser's complaint when the feed was malformed but still readable."""

    items: list[FeedItem] = field(default_factory=list)
    warning: str | None = None


def parse_feed(content: bytes, headers: dict[str, str], base_url: str) -> ParsedFeed:
    """Items of an RSS/Atom feed.

    A malformed ("bozo") feed that still has entries keeps them, with a warning.

    Raises:
        ParseError: the body is empty, is an HTML page, or is not a feed at all.
    """
    import feedparser  # here: reading tracker.toml must not wait for it

    if not content.strip():
        raise ParseError("empty body where a feed was expected")
    parsed = feedparser.parse(*_as_utf8(content, headers))
    problem = str(parsed.get("bozo_exception", "")) if parsed.get("bozo") else None
    if not parsed.entries:
        content_type = headers.get("content-type", "")
        head = content[:512].lstrip().lower()
        if "html" in content_type or head.startswith((b"<!doctype html", b"<html")):
            raise ParseError("expected a feed but got an HTML page (is the URL the feed's?)")
        if problem:
            raise ParseError(f"not a readable feed: {problem}")
        if not parsed.get("version"):
            raise ParseError("not an RSS or Atom feed")
    items = [item for entry in parsed.entries if (item := _item(entry, base_url)) is not None]
    return ParsedFeed(items=items, warning=problem)


XML_DECLARED = re.compile(rb"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][A-Za-z0-9_.:-]+["']""")


def _as_utf8(content: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The feed re-encoded as UTF-8, declared so in its headers and XML declaration.

    Feeds are decoded as pages are (:func:`decode_bytes`): left to itself, feedparser took a UTF-8
    feed with one stray byte for ISO-8859-2 and stored Chinese as mojibake.
    """
    from tracker.ingest.sources.decode import decode_bytes, header_charset

    try:
        text = decode_bytes(content, header_charset(headers.get("content-type", "")))
    except ParseError:
        return content, headers  # feedparser may still make sense of it; it will say if not
    body = XML_DECLARED.sub(rb'\1"utf-8"', text.encode("utf-8"), count=1)
    content_type = headers.get("content-type", "application/xml").split(";")[0]
    return body, {**headers, "content-type": f"{content_type}; charset=utf-8"}


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries often carry markup)."""
    if "<" not in fragment:
        return clean_text(fragment)
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(BLOCKS):  # only block elements break lines; <b>, <a> stay inline
        block.insert_before("\n")
        block.insert_after("\n")
    return clean_text(soup.get_text(""))


def _item(entry: Any, base_url: str) -> FeedItem | None:
    link = entry.get("link") or ""
    if not link and str(entry.get("id", "")).startswith(("http://", "https://")):
        link = entry["id"]
    if not link:
        return None
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    source = entry.get("source") or {}
    fields = {"feed_source": source["title"]} if source.get("title") else {}
    return FeedItem(
        fields=fields,
        url=_join(base_url, link),
        title=html_to_text(entry.get("title", "")).replace("\n", " "),
        summary=html_to_text(body or ""),
        author=entry.get("author", "") or "",
        published_at=_when(entry.get("published_parsed") or entry.get("updated_parsed")),
        guid=str(entry.get("id", "") or ""),
    )


def _join(base_url: str, link: str) -> str:
    """The absolute link; a link urljoin cannot parse is passed on as it is (the pipeline skips
    and counts it) rather than failing the whole feed."""
    try:
        return urljoin(base_url, link)
    except ValueError:
        return link


def _when(parsed: time.struct_time | None) -> datetime | None:
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC)


# ---------------------------------------------------------------- the rss kind
def collect_feed(visit: Visit, url: str) -> tuple[Collected, ParsedFeed | None]:
    """A feed at ``url``, asked with the validators stored for it (None: not modified)."""
    store = visit.store
    etag, modified = store.feed_validators(url) if store is not None else (None, None)
    res = visit.get(url, "feed", etag=etag, last_modified=modified)
    if res.not_modified:
        return Collected(not_modified=True), None
    feed = parse_feed(res.content, res.headers, res.url)
    options = visit.source.options
    got = Collected(
        items=feed.items[: options.get("max_items") or None],
        fetch_pages=bool(options.get("fetch_articles", False)),
        validators=(url, res.etag, res.last_modified),
        warning=feed.warning,
    )
    return got, feed


def _collect_rss(visit: Visit) -> Collected:
    got, _ = collect_feed(visit, visit.source.url)
    for item in got.items:
        item.fields.pop("feed_source", None)
    return got


def _rss_url(source: Source) -> str:
    return source.url


RSS = SourceKind(
    name="rss",
    keys={"fetch_articles": bool, "max_items": int},
    collect=_collect_rss,
    feed_url=_rss_url,
)
