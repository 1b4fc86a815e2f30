"""Is a URL a feed, and if it is a web page, which feeds does it link to?

People paste the address of a site or a section (``https://example.org/news``) where a feed was
wanted. Feed readers look in the page's ``<link rel="alternate" type="application/rss+xml">``
for the feed; so does ``tracker sources add``, which offers what it finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from tracker.errors import FetchError, ParseError
from tracker.ingest.http import Fetcher
from tracker.ingest.sources.decode import decode_bytes
from tracker.ingest.sources.feeds import parse_feed

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


@dataclass
class FeedLink:
    url: str
    title: str


@dataclass
class FeedCheck:
    """What the URL turned out to be: a feed, a page (with the feeds it links to), or
    unreachable (``problem`` says why; the URL may still be right)."""

    is_feed: bool = False
    is_page: bool = False
    links: list[FeedLink] = field(default_factory=list)
    problem: str | None = None


def check_feed(fetcher: Fetcher, url: str) -> FeedCheck:
    """One GET of ``url``: a feed, or a page and the feeds it links to."""
    try:
        result = fetcher.fetch(url)
    except FetchError as exc:
        return FeedCheck(problem=exc.reason)
    try:
        parse_feed(result.content, result.headers, result.url)
        return FeedCheck(is_feed=True)
    except ParseError as exc:
        head = result.content[:1024].lstrip().lower()
        if "html" not in result.headers.get("content-type", "") and b"<html" not in head:
            return FeedCheck(problem=str(exc))
    try:
        text = decode_bytes(result.content, result.charset)
    except ParseError:
        return FeedCheck(is_page=True)
    return FeedCheck(is_page=True, links=linked_feeds(text, result.url))


def linked_feeds(html: str, base_url: str) -> list[FeedLink]:
    """The feeds a page announces in its head, in page order, each once."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found: dict[str, FeedLink] = {}
    for link in soup.find_all("link", href=True):
        rel: object = link.get("rel") or []
        kinds = rel if isinstance(rel, list) else str(rel).split()
        if "alternate" not in [str(k).lower() for k in kinds]:
            continue
        if str(link.get("type", "")).split(";")[0].strip().lower() not in FEED_TYPES:
            continue
        url = urljoin(base_url, str(link["href"]).strip())
        if url.startswith(("http://", "https://")) and url not in found:
            found[url] = FeedLink(url, str(link.get("title") or "").strip())
    return list(found.values())
