"""One fetch run: every source through fetch -> decode/extract -> normalise -> tag -> store.

A source that fails is recorded (report and ``fetch_log``) and the run goes on with the next one;
each source's articles are committed together, so a crash mid-source leaves nothing half-written.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from typing import Protocol

from tracker.decode import decode_bytes
from tracker.errors import FetchError, ParseError
from tracker.extract import Extracted, merge_published
from tracker.extractpool import Extractor
from tracker.fetch import Fetcher, FetchResult
from tracker.models import Article, FeedItem, Source, TagHit
from tracker.sources import parse_feed, parse_listing
from tracker.store import LogEntry, Store
from tracker.tagging import Tagger, relevance
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
    workers: int = 4,
    extract_workers: int | None = None,
) -> FetchReport:
    """Fetch every enabled source into ``store``.

    Args:
        refetch: fetch article pages again even when the article is already stored.
        progress: receives start/advance/finish per source.
        workers: threads fetching a source's article pages ahead of extraction.
        extract_workers: processes extracting pages on large runs (default: cores, at most 4;
            1 keeps extraction in this process).
    """
    progress = progress or NoProgress()
    enabled = [s for s in sources if s.enabled]
    store.ensure_sources(enabled, now())
    report = FetchReport()
    extractor = Extractor(extract_workers)
    try:
        for source in enabled:
            result = _run_source(
                store, fetcher, source, tagger, now, refetch, progress, workers, extractor
            )
            report.sources.append(result)
            progress.finish(result)
    finally:
        extractor.close()
    return report


def _run_source(
    store: Store,
    fetcher: Fetcher,
    source: Source,
    tagger: Tagger,
    now: Callable[[], datetime],
    refetch: bool,
    progress: Progress,
    workers: int,
    extractor: Extractor,
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
        log.info("%s failed: %s", source.name, report.error)  # the CLI reports failures itself
        progress.start(source.name, 0)
        store.log_fetches(entries, now())
        return report

    progress.start(source.name, len(items))
    known = (
        set() if refetch or not fetch_pages else store.known_ids(article_id(i.url) for i in items)
    )
    todo = [i for i in items if article_id(i.url) not in known]
    report.unchanged += len(items) - len(todo)  # already stored: their pages are not fetched again
    for _ in range(len(items) - len(todo)):
        progress.advance(source.name)
    tagged: list[tuple[Article, list[TagHit]]] = []
    weights = tagger.weights()
    if fetch_pages:
        extractor.use_pool(len(todo))
    pages = _prefetch(fetcher, extractor, source, todo, fetch_pages, workers, now().date())
    for item, page in pages:
        if page is not None:
            page.extract(extractor, now().date())
            entries.append(page.entry)
        article = _build_article(source, item, page, report, now())
        hits = tagger.tag(article.title, article.text, article.lang)
        article.relevance = relevance(hits, weights)
        tagged.append((article, hits))
        progress.advance(source.name)
    counts = store.save_batch(source.name, tagged, now=now(), log=entries, validators=validators)
    report.new, report.updated = counts.new, counts.updated
    report.unchanged += counts.unchanged
    return report


@dataclass
class _Page:
    """An article page as a fetch thread left it: fetched, perhaps extracted, or why it failed."""

    entry: LogEntry
    result: FetchResult | None = None
    content: Extracted | None = None
    error: str | None = None

    def extract(self, extractor: Extractor, today: date) -> None:
        """Decode and extract the fetched bytes (once), then let them go."""
        res, self.result = self.result, None
        if res is None:
            return
        try:
            self.content = extractor(res.content, res.charset, res.url, today)
        except ParseError as exc:
            self.error = str(exc)


def _fetch_page(
    fetcher: Fetcher, extractor: Extractor, source: Source, url: str, today: date
) -> _Page:
    entries: list[LogEntry] = []
    try:
        result = _get(fetcher, source, url, "page", entries)
    except FetchError as exc:
        return _Page(entries[-1], error=exc.reason)
    page = _Page(entries[-1], result=result)
    if extractor.pooled:
        # This thread waits on a worker process, not on the GIL: extraction runs on another core.
        # In-process extraction stays on the main thread, where threads would only contend.
        page.extract(extractor, today)
    return page


def _prefetch(
    fetcher: Fetcher,
    extractor: Extractor,
    source: Source,
    items: list[FeedItem],
    fetch_pages: bool,
    workers: int,
    today: date,
) -> Iterator[tuple[FeedItem, _Page | None]]:
    """Items in order, each with its page fetched and extracted ahead by a few threads.

    A window of at most ``2 * workers`` pages in flight keeps memory flat however long the feed.
    The fetcher's per-host lock still spaces requests to one host by its interval.
    """
    if not fetch_pages:
        for item in items:
            yield item, None
        return
    window = max(1, 2 * workers)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch") as pool:
        pending: deque[tuple[FeedItem, Future[_Page]]] = deque()
        queue = iter(items)
        for item in islice(queue, window):
            pending.append(
                (item, pool.submit(_fetch_page, fetcher, extractor, source, item.url, today))
            )
        while pending:
            item, future = pending.popleft()
            for nxt in islice(queue, 1):
                pending.append(
                    (nxt, pool.submit(_fetch_page, fetcher, extractor, source, nxt.url, today))
                )
            yield item, future.result()


def _build_article(
    source: Source,
    item: FeedItem,
    page: _Page | None,
    report: SourceReport,
    now: datetime,
) -> Article:
    """The article for one item; the page's text when it can be read, else the feed's summary."""
    title, text, author = item.title, item.summary, item.author
    published = item.published_at if item.published_at and item.published_at <= now else None
    lang_hint = source.lang
    extracted = False
    if page is not None:
        content = page.content
        if page.error is not None:
            report.pages_failed += 1
            page.entry.error = page.error
        elif content is None:
            report.no_text += 1
            page.entry.error = "no main text found; kept the feed summary"
        if content is not None:
            title = content.title or title
            text, extracted = content.text, True
            author = content.author or author
            published = merge_published(content.published_on, item.published_at, now)
            lang_hint = content.lang_hint or lang_hint
    # Extracted text and feed summaries are clean already (clean_text ran in extract / feeds).
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
