"""Per source kind: fetch the feed, listing or API answer and turn it into items.

Each kind returns a :class:`Collected`; article pages (or full texts) are fetched later, by the
pipeline, for all kinds alike. Every request made here is appended to ``entries`` (the fetch log).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tracker.errors import FetchError, ParseError
from tracker.ingest.decode import decode_bytes
from tracker.ingest.http import Fetcher, FetchResult
from tracker.ingest.sources import parse_feed, parse_listing
from tracker.ingest.sources.federal_register import (
    BIS,
    COUNT_CAP,
    documents_url,
    parse_documents,
    parse_public_inspection,
    public_inspection_url,
)
from tracker.ingest.sources.google_news import edition_lang, google_news_url, split_publisher
from tracker.models import FeedItem, Source
from tracker.store import LogEntry, Store

FR_TYPES_DEFAULT = ["RULE", "PRORULE", "NOTICE", "PRESDOCU"]
FR_FIRST_WINDOW_DAYS = 30


@dataclass
class Collected:
    items: list[FeedItem] = field(default_factory=list)
    fetch_pages: bool = False  # fetch each item's page (or text_url) for its full text
    validators: tuple[str, str | None, str | None] | None = None  # feed URL, ETag, Last-Modified
    not_modified: bool = False
    warning: str | None = None
    lang: str | None = None  # the language the kind implies (a Google News edition)


def feed_url(source: Source) -> str:
    """The URL a source's items come from (a Google News search builds its own)."""
    if source.kind == "google-news":
        return google_news_url(
            source.url, source.options["query"], source.options.get("edition", "en-US")
        )
    return source.url


def collect(
    store: Store | None, fetcher: Fetcher, source: Source, entries: list[LogEntry], now: datetime
) -> Collected:
    """Items of ``source``. Without a store (``sources test``) nothing stored is consulted.

    Raises:
        FetchError, ParseError: the source as a whole failed.
    """
    if source.kind in ("rss", "google-news"):
        return _collect_feed(store, fetcher, source, entries)
    if source.kind == "page":
        res = get(fetcher, source, source.url, "listing", entries)
        html = decode_bytes(res.content, res.charset)
        limit = source.options.get("max_links", 50)
        items = parse_listing(html, res.url, source.options["link_selector"], limit=limit)
        return Collected(items=items, fetch_pages=True)
    if source.kind == "federal-register":
        return _collect_federal_register(store, fetcher, source, entries, now)
    if source.kind == "public-inspection":
        res = get(fetcher, source, public_inspection_url(source.url), "api", entries)
        agencies = source.options.get("agencies", [BIS])
        return Collected(items=parse_public_inspection(res.content, agencies), lang="en")
    raise ParseError(f"unknown source kind {source.kind!r}")  # config.py refuses these first


def _collect_feed(
    store: Store | None, fetcher: Fetcher, source: Source, entries: list[LogEntry]
) -> Collected:
    url = feed_url(source)
    etag, modified = store.feed_validators(url) if store is not None else (None, None)
    res = get(fetcher, source, url, "feed", entries, etag=etag, last_modified=modified)
    if res.not_modified:
        return Collected(not_modified=True)
    feed = parse_feed(res.content, res.headers, res.url)
    items = feed.items[: source.options.get("max_items") or None]
    lang = None
    if source.kind == "google-news":
        items = [split_publisher(i, i.fields.pop("feed_source", None)) for i in items]
        lang = edition_lang(source.options.get("edition", "en-US"))
    for item in items:
        item.fields.pop("feed_source", None)
    return Collected(
        items=items,
        fetch_pages=bool(source.options.get("fetch_articles", False)),
        validators=(url, res.etag, res.last_modified),
        warning=feed.warning,
        lang=lang,
    )


def _collect_federal_register(
    store: Store | None, fetcher: Fetcher, source: Source, entries: list[LogEntry], now: datetime
) -> Collected:
    since = _window_start(store, source, now)
    url: str | None = documents_url(
        source.url,
        agencies=source.options.get("agencies", [BIS]),
        types=source.options.get("types", FR_TYPES_DEFAULT),
        since=since,
        per_page=source.options.get("per_page", 100),
    )
    items: list[FeedItem] = []
    warning = None
    pages = 0
    while url and pages < source.options.get("max_pages", 20):
        res = get(fetcher, source, url, "api", entries)
        page = parse_documents(res.content)
        if pages == 0 and page.count >= COUNT_CAP:
            warning = f"{page.count} documents since {since}: the API stops at {COUNT_CAP}; set a later 'since'"
        items += page.items
        url = page.next_page_url
        pages += 1
    if url:
        warning = warning or f"stopped after {pages} pages (max_pages); more documents remain"
    return Collected(
        items=items,
        fetch_pages=bool(source.options.get("fetch_text", True)),
        warning=warning,
        lang="en",
    )


def _window_start(store: Store | None, source: Source, now: datetime) -> date:
    """From the last successful run (a day's overlap: the FR lists an issue the day before it is
    dated), else the configured ``since``, else 30 days back."""
    state = store.source_state(source.name) if store is not None else None
    if state and state.get("last_success_at"):
        return datetime.fromisoformat(state["last_success_at"]).date() - timedelta(days=1)
    if source.options.get("since"):
        try:
            return date.fromisoformat(source.options["since"])
        except ValueError as exc:
            raise ParseError(
                f"since = {source.options['since']!r} is not a date (YYYY-MM-DD)"
            ) from exc
    return (now - timedelta(days=FR_FIRST_WINDOW_DAYS)).date()


def get(
    fetcher: Fetcher,
    source: Source,
    url: str,
    kind: str,
    entries: list[LogEntry],
    **validators: str | None,
) -> FetchResult:
    """Fetch and append a fetch_log entry whatever happens."""
    try:
        res = fetcher.fetch(url, min_interval=source.min_interval, **validators)
    except FetchError as exc:
        entries.append(LogEntry(source.name, url, kind, status=exc.status, error=exc.reason))
        raise
    entries.append(
        LogEntry(
            source.name,
            url,
            kind,
            status=res.status,
            bytes=len(res.content),
            duration_ms=round(res.elapsed * 1000),
        )
    )
    return res
