"""One fetch run: every source through fetch -> decode/extract -> normalise -> tag -> store.

A source that fails is recorded (report and ``fetch_log``) and the run goes on with the next one;
each source's articles are committed together, so a crash mid-source leaves nothing half-written.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from tracker.collect import collect
from tracker.errors import FetchError, ParseError
from tracker.extract import merge_published
from tracker.extractpool import Extractor
from tracker.fetch import Fetcher
from tracker.health import gone_reason, next_attempt
from tracker.models import Article, FeedItem, Source, TagHit
from tracker.prefetch import Page, prefetch
from tracker.store import LogEntry, Store
from tracker.stories import StoryRules
from tracker.storydb import PlaceReport, place_pending
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
    error_status: int | None = None  # the HTTP status of the failure, when there was one
    retry_after: float | None = None  # seconds the server asked us to wait
    skipped: str | None = None  # why the source was not fetched this run (backing off, disabled)


@dataclass
class FetchReport:
    sources: list[SourceReport] = field(default_factory=list)
    stories: PlaceReport = field(default_factory=PlaceReport)

    @property
    def failures(self) -> list[SourceReport]:
        return [s for s in self.sources if s.error]

    @property
    def skipped(self) -> list[SourceReport]:
        return [s for s in self.sources if s.skipped]

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
    force: bool = False,
    source_workers: int = 8,
    story_rules: StoryRules | None = None,
) -> FetchReport:
    """Fetch every enabled source into ``store``.

    Args:
        refetch: fetch article pages again even when the article is already stored.
        progress: receives start/advance/finish per source.
        workers: threads fetching a source's article pages ahead of extraction.
        extract_workers: processes extracting pages on large runs (default: cores, at most 4;
            1 keeps extraction in this process).
        force: fetch sources that are backing off or disabled after a 410.
        source_workers: sources fetched at the same time.
        story_rules: how new articles join stories (placed after every source has run).
    """
    progress = progress or NoProgress()
    enabled = [s for s in sources if s.enabled]
    store.ensure_sources(enabled, now())
    extractor = Extractor(extract_workers)

    def one(source: Source) -> SourceReport:
        skipped = None if force else _why_skip(store, source.name, now())
        if skipped:
            result = SourceReport(source.name, skipped=skipped)
            progress.start(source.name, 0)
        else:
            result = _run_source(
                store, fetcher, source, tagger, now, refetch, progress, workers, extractor
            )
            _record_health(store, result, now())
        progress.finish(result)
        return result

    # Sources run side by side (hosts wait on each other only through the fetcher's per-host
    # interval); the report keeps the configured order.
    try:
        with ThreadPoolExecutor(max(1, source_workers), thread_name_prefix="source") as pool:
            results = list(pool.map(one, enabled))
        # After the sources, not between them: placement reads and writes the story tables,
        # which the source threads would otherwise contend for; an article saved but not yet
        # placed is picked up by the next run. A big run's extraction pool, idle now, computes
        # the signatures.
        try:
            stories = place_pending(
                store, story_rules or StoryRules(), now=now(), pool=extractor.pool
            )
        except (sqlite3.Error, BrokenExecutor, OSError) as exc:
            # The articles are saved; they stay pending and the next run places them.
            log.warning("story placement stopped (%s); run 'tracker stories update'", exc)
            stories = PlaceReport()
    finally:
        extractor.close()
    return FetchReport(sources=results, stories=stories)


def _why_skip(store: Store, name: str, now: datetime) -> str | None:
    state = store.source_state(name)
    if not state:
        return None
    if state.get("disabled_reason"):
        return f"disabled: {state['disabled_reason']}"
    if state.get("next_attempt_at") and datetime.fromisoformat(state["next_attempt_at"]) > now:
        failures = state.get("consecutive_failures") or 0
        return f"backing off after {failures} failure(s) until {state['next_attempt_at']}"
    return None


def _record_health(store: Store, result: SourceReport, now: datetime) -> None:
    if result.error is None:
        store.record_source_run(result.name, now, new=result.new)
        return
    failures = ((store.source_state(result.name) or {}).get("consecutive_failures") or 0) + 1
    store.record_source_run(
        result.name,
        now,
        error=result.error,
        next_attempt_at=next_attempt(failures, now, result.retry_after),
        disabled_reason=gone_reason(now) if result.error_status == 410 else None,
    )


@dataclass
class _Processed:
    """One source's run before anything is written: what to save and what to log."""

    report: SourceReport
    tagged: list[tuple[Article, list[TagHit]]] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    validators: tuple[str, str | None, str | None] | None = None


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
    done = _process_source(
        store, fetcher, source, tagger, now, refetch, progress, workers, extractor
    )
    if done.report.error or done.report.not_modified:
        store.log_fetches(done.entries, now())
        return done.report
    counts = store.save_batch(
        source.name, done.tagged, now=now(), log=done.entries, validators=done.validators
    )
    done.report.new, done.report.updated = counts.new, counts.updated
    done.report.unchanged += counts.unchanged
    return done.report


def preview_source(
    fetcher: Fetcher,
    source: Source,
    tagger: Tagger,
    *,
    now: Callable[[], datetime] = utc_now,
) -> tuple[SourceReport, list[tuple[Article, list[TagHit]]]]:
    """Fetch a source once and build its articles, writing nothing (``tracker sources test``)."""
    extractor = Extractor(1)
    done = _process_source(None, fetcher, source, tagger, now, True, NoProgress(), 4, extractor)
    return done.report, done.tagged


def _process_source(
    store: Store | None,
    fetcher: Fetcher,
    source: Source,
    tagger: Tagger,
    now: Callable[[], datetime],
    refetch: bool,
    progress: Progress,
    workers: int,
    extractor: Extractor,
) -> _Processed:
    done = _Processed(SourceReport(source.name))
    report, entries = done.report, done.entries
    try:
        got = collect(store, fetcher, source, entries, now())
    except (FetchError, ParseError) as exc:
        report.error = exc.reason if isinstance(exc, FetchError) else str(exc)
        report.error_status = exc.status if isinstance(exc, FetchError) else None
        report.retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        if entries and entries[-1].error is None:
            entries[-1].error = report.error  # fetched fine, but the body was unusable
        log.info("%s failed: %s", source.name, report.error)  # the CLI reports failures itself
        progress.start(source.name, 0)
        return done
    if got.not_modified:
        report.not_modified = True
        progress.start(source.name, 0)
        return done
    report.warning = got.warning
    items, fetch_pages, done.validators = got.items, got.fetch_pages, got.validators
    progress.start(source.name, len(items))
    known = set()
    if store is not None and not refetch and fetch_pages:
        known = store.known_ids(article_id(i.url) for i in items)
    todo = [i for i in items if article_id(i.url) not in known]
    report.unchanged += len(items) - len(todo)  # already stored: their pages are not fetched again
    for _ in range(len(items) - len(todo)):
        progress.advance(source.name)
    weights = tagger.weights()
    if fetch_pages:
        extractor.use_pool(len(todo))
    pages = prefetch(fetcher, extractor, source, todo, fetch_pages, workers, now().date())
    for item, page in pages:
        if page is not None:
            page.extract(extractor, now().date())
            entries.append(page.entry)
        article = _build_article(source, item, page, report, now(), got.lang)
        hits = tagger.tag(article.title, article.text, article.lang)
        article.relevance = relevance(hits, weights)
        done.tagged.append((article, hits))
        progress.advance(source.name)
    return done


def _build_article(
    source: Source,
    item: FeedItem,
    page: Page | None,
    report: SourceReport,
    now: datetime,
    kind_lang: str | None = None,
) -> Article:
    """The article for one item; the page's text when it can be read, else the feed's summary."""
    title, text, author = item.title, item.summary, item.author
    published = item.published_at if item.published_at and item.published_at <= now else None
    lang_hint = source.lang or kind_lang
    extracted = False
    fields = dict(item.fields)
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
            if content.published_on or not page.plain:
                published = merge_published(content.published_on, item.published_at, now)
            lang_hint = content.lang_hint or lang_hint
        if source.kind == "google-news" and page.final_url and page.final_url != item.url:
            fields["publisher_url"] = page.final_url  # the redirect revealed the publisher's page
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
        fields=fields,
    )
