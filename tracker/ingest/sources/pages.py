"""HTML listing pages: a CSS selector picks the article links."""

from __future__ import annotations

from urllib.parse import urljoin

from tracker.errors import ParseError
from tracker.ingest.sources.base import Collected, SourceKind, Visit
from tracker.models import FeedItem
from tracker.urls import usable_link


def parse_listing(html: str, base_url: str, selector: str, *, limit: int = 50) -> list[FeedItem]:
    """Article links on a listing page, in page order, without repeats.

    ``selector`` may match the ``<a>`` itself or an element that contains one.

    Raises:
        ParseError: the selector is invalid or matches no link (the site was probably redesigned).
    """
    from bs4 import BeautifulSoup  # here: reading tracker.toml must not wait for it

    soup = BeautifulSoup(html, "html.parser")
    try:
        matches = soup.select(selector)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError
        raise ParseError(f"invalid link_selector {selector!r}: {exc}") from exc
    items: list[FeedItem] = []
    seen: set[str] = set()
    for node in matches:
        anchor = node if node.name == "a" else node.find("a", href=True)
        if anchor is None or not anchor.get("href"):
            continue
        try:
            url = urljoin(base_url, str(anchor["href"])).split("#", 1)[0]
        except ValueError:  # a broken href (http://[::1/x) is one bad link, not a bad page
            continue
        if not usable_link(url) or url in seen:
            continue
        seen.add(url)
        items.append(FeedItem(url=url, title=anchor.get_text(" ", strip=True)))
        if len(items) >= limit:
            break
    if not items:
        raise ParseError(f"link_selector {selector!r} matched no links; has the page changed?")
    return items


def _collect(visit: Visit) -> Collected:
    from tracker.ingest.sources.decode import decode_bytes

    source = visit.source
    res = visit.get(source.url, "listing")
    html = decode_bytes(res.content, res.charset)
    limit = source.options.get("max_links", 50)
    items = parse_listing(html, res.url, source.options["link_selector"], limit=limit)
    return Collected(items=items, fetch_pages=True)


PAGE = SourceKind(
    name="page",
    keys={"link_selector": str, "max_links": int},
    required=("link_selector",),
    collect=_collect,
)
