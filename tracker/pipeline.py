"""One fetch run: every source through fetch -> decode/extract -> normalise -> tag -> store.

A source that fails is recorded (report and ``fetch_log``) and the run goes on with the next one;
each source's articles are committed together, so a crash mid-source leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from tracker.decode import decode_bytes
from tracker.errors import FetchError, ParseError
from tracker.extract import extract_article, merge_published
from tracker.fetch import Fetcher, FetchResult
from tracker.models import Article, FeedItem, Source, TagHit
from tracker.sources import parse_feed, parse_listing
from tracker.store import LogEntry, Store
from tracker.tagging import Tagger
from tracker.textnorm import clean_text, detect_lang
from tracker.urls import article_id

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """What one source's run did; ``error`` is set when the source as a whole failed."""

    name: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    pages_failed: int = 0  # article pages that failed; the feed's summary was kept
    no_text: int = 0  # article pages with no main text; the feed's summary was kept
    not_modified: bool = False
    warning: str | None = None
    error: str | None = None


@dataclass
class FetchReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def failures(self) -> list[SourceReport]:
        return [s for s in self.sources if s.error]

    @property
    def new(self) -> int:
        return sum(s.new for s in self.sources)


class Progress(Protocol):
    """Hooks the CLI uses to draw progress; the pipeline never prints."""

    def start(self, source: str, total: int) -> None: ...
    def advance(self, source: str) -> None: ...
    def finish(self, report: SourceReport) -> None: ...


class NoProgress:
    def start(self, source: str, total: int) -> None:
        pass

    def advance(self, source: str) -> None:
        pass

    def finish(self, report: SourceReport) -> None:
        pass


def utc_now() -> datetime:
    return datetime.now(UTC)


def run_fetch(
    store: Store,
    fetcher: Fetcher,
    sources: Iterable[Source],
    tagger: Tagger,
    *,
    now: Callable[[], datetime] = utc_now,
    refetch: bool = False,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch every enabled source into ``store``.

    Args:
        refetch: fetch article pages again even when the article is already stored.
        progress: receives start/advance/finish per source.
    """
    progress = progress or NoProgress()
    enabled = [s for s in sources if s.enabled]
    store.ensure_sources(enabled, now())
    report = FetchReport()
    for source in enabled:
        result = _run_source(store, fetcher, source, tagger, now, refetch, progress)
        report.sources.append(result)
        progress.finish(result)
    return report


def _run_source(
    store: Store,
    fetcher: Fetcher,
    source: Source,
    tagger: Tagger,
    now: Callable[[], datetime],
    refetch: bool,
    progress: Progress,
) -> SourceReport:
    report = SourceReport(source.name)
    entries: list[LogEntry] = []
    validators: tuple[str, str | None, str | None] | None = None
    try:
        if source.kind == "rss":
            etag, modified = store.feed_validators(source.url)
            res = _get(
                fetcher, source, source.url, "feed", entries, etag=etag, last_modified=modified
            )
            if res.not_modified:
                report.not_modified = True
                progress.start(source.name, 0)
                store.log_fetches(entries, now())
                return report
            feed = parse_feed(res.content, res.headers, res.url)
            report.warning = feed.warning
            items = feed.items[: source.options.get("max_items") or None]
            validators = (source.url, res.etag, res.last_modified)
            fetch_pages = bool(source.options.get("fetch_articles", False))
        elif source.kind == "page":
            res = _get(fetcher, source, source.url, "listing", entries)
            html = decode_bytes(res.content, res.charset)
            items = parse_listing(
                html,
                res.url,
                source.options["link_selector"],
                limit=source.options.get("max_links", 50),
            )
            fetch_pages = True
        else:  # config.py refuses unknown kinds; this guards against a caller that skipped it
            raise ParseError(f"unknown source kind {source.kind!r}")
    except (FetchError, ParseError) as exc:
        report.error = exc.reason if isinstance(exc, FetchError) else str(exc)
        if entries and entries[-1].error is None:
            entries[-1].error = report.error  # fetched fine, but the body was unusable
        log.warning("%s failed: %s", source.name, report.error)
        progress.start(source.name, 0)
        store.log_fetches(entries, now())
        return report

    progress.start(source.name, len(items))
    known = (
        set() if refetch or not fetch_pages else store.known_ids(article_id(i.url) for i in items)
    )
    tagged: list[tuple[Article, list[TagHit]]] = []
    for item in items:
        if article_id(item.url) in known:
            report.unchanged += 1  # already stored: its page is not fetched again
        else:
            article = _build_article(fetcher, source, item, fetch_pages, report, entries, now())
            tagged.append((article, tagger.tag(article.title, article.text)))
        progress.advance(source.name)
    counts = store.save_batch(source.name, tagged, now=now(), log=entries, validators=validators)
    report.new, report.updated = counts.new, counts.updated
    report.unchanged += counts.unchanged
    return report


def _build_article(
    fetcher: Fetcher,
    source: Source,
    item: FeedItem,
    fetch_page: bool,
    report: SourceReport,
    entries: list[LogEntry],
    now: datetime,
) -> Article:
    """The article for one item; the page's text when it can be read, else the feed's summary."""
    title, text, author = item.title, item.summary, item.author
    published = item.published_at if item.published_at and item.published_at <= now else None
    lang_hint = source.lang
    extracted = False
    if fetch_page:
        try:
            res = _get(fetcher, source, item.url, "page", entries)
            page = extract_article(
                decode_bytes(res.content, res.charset), res.url, today=now.date()
            )
        except (FetchError, ParseError) as exc:
            report.pages_failed += 1
            if entries and entries[-1].error is None:
                entries[-1].error = str(exc)
            page = None
        else:
            if page is None:
                report.no_text += 1
                entries[-1].error = "no main text found; kept the feed summary"
        if page is not None:
            title = page.title or title
            text, extracted = page.text, True
            author = page.author or author
            published = merge_published(page.published_on, item.published_at, now)
            lang_hint = page.lang_hint or lang_hint
    text = clean_text(text)
    title = clean_text(title).replace("\n", " ")
    return Article(
        url=item.url,
        source=source.name,
        title=title,
        text=text,
        summary=item.summary,
        author=author,
        published_at=published,
        lang=detect_lang(f"{title}\n{text}", lang_hint),
        extracted=extracted,
    )


def _get(
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
