"""One fetch run: every source through fetch -> decode/extract -> normalise -> tag -> store.

A source that fails is recorded (report and ``fetch_log``) and the run goes on with the next one.
Each source's articles are committed in batches of ``BATCH``: a run killed midway keeps every batch
it finished, and the feed's validators are saved with the last batch only, so the next run reads
the feed again and picks up where this one stopped.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from tracker.config.stories import StoryRules
from tracker.errors import FetchError, ParseError
from tracker.ingest.collect import Collected, collect
from tracker.ingest.extract import merge_published
from tracker.ingest.health import gone_reason, next_attempt
from tracker.ingest.http import Fetcher
from tracker.ingest.pool import Extractor
from tracker.ingest.prefetch import Page, prefetch
from tracker.ingest.sources import KINDS
from tracker.models import Article, FeedItem, Source, TagHit
from tracker.record.linking import LinkReport, companies_of, link_articles
from tracker.store import LogEntry, Store
from tracker.stories.place import PlaceReport, place_pending
from tracker.tagging.tagger import Tagger, relevance
from tracker.textnorm import clean_text, detect_lang, strip_controls
from tracker.urls import article_id, usable_link

log = logging.getLogger(__name__)

BATCH = 50  # articles per transaction: an interrupted run keeps all but the last few


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
    next_attempt: datetime | None = None  # a source backing off: when it is due again
    note: str | None = None  # a plain remark for the summary (a list's first snapshot)
    unresolved: bool = False  # failed because its host name did not resolve
    bad_items: int = 0  # items skipped: an unusable link, or building the article failed
    interrupted: bool = False  # stopped by Ctrl-C / SIGTERM; committed batches are kept
    left: int = 0  # items left for the next run: the source used up its source_deadline


@dataclass
class FetchReport:
    sources: list[SourceReport] = field(default_factory=list)
    stories: PlaceReport = field(default_factory=PlaceReport)
    links: LinkReport = field(default_factory=LinkReport)

    @property
    def failures(self) -> list[SourceReport]:
        return [s for s in self.sources if s.error]

    @property
    def offline(self) -> bool:
        """Every source tried failed to resolve its host: the machine, not the sources."""
        tried = [s for s in self.sources if not s.skipped]
        return bool(tried) and all(s.unresolved for s in tried)

    @property
    def next_attempt(self) -> datetime | None:
        """When nothing was tried because every source is backing off: the first one due."""
        if not self.sources or any(not s.skipped for s in self.sources):
            return None
        due = [s.next_attempt for s in self.sources if s.next_attempt is not None]
        return min(due) if due else None

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
    stop: threading.Event | None = None,
    place_progress: Callable[[int, int], None] | None = None,
    source_deadline: float | None = None,
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
        stop: set by the caller (Ctrl-C, SIGTERM) to end the run early; each source stops after
            its current article, keeping every batch already committed.
        place_progress: (placed, pending) while new articles join stories.
        source_deadline: seconds one source may take; past them it stops after the current
            article, keeps what it saved, and leaves the rest for the next run (not a failure).

    Raises:
        KeyboardInterrupt: the run was interrupted; what was committed before stays.
    """
    progress = progress or NoProgress()
    stop = stop or threading.Event()
    enabled = [s for s in sources if s.enabled]
    store.ensure_sources(enabled, now())
    extractor = Extractor(extract_workers)
    run = _Run(
        store, fetcher, tagger, now, refetch, progress, workers, extractor, stop, source_deadline
    )

    def one(source: Source) -> SourceReport:
        skipped, due = (None, None) if force else _why_skip(store, source.name, now())
        if skipped:
            result = SourceReport(source.name, skipped=skipped, next_attempt=due)
            progress.start(source.name, 0)
        else:
            progress.start(source.name, 0)  # shown at once, its size unknown until collected
            result = _run_source(run, source)
            # Stopped or out of time is neither a failure nor a success: the next run carries on,
            # and a Federal Register window (it starts at the last success) still covers the rest.
            if not (result.interrupted or result.left):
                _record_health(store, result, now())
        progress.finish(result)
        return result

    # Sources run side by side (hosts wait on each other only through the fetcher's per-host
    # interval); the report keeps the configured order.
    pool = ThreadPoolExecutor(max(1, source_workers), thread_name_prefix="source")
    try:
        results = list(pool.map(one, enabled))
        if stop.is_set():
            raise KeyboardInterrupt
        # After the sources, not between them: placement reads and writes the story tables,
        # which the source threads would otherwise contend for; an article saved but not yet
        # placed is picked up by the next run. A big run's extraction pool, idle now, computes
        # the signatures.
        try:
            stories = place_pending(
                store,
                story_rules or StoryRules(),
                now=now(),
                pool=extractor.pool,
                progress=place_progress,
                stop=stop,
            )
        except (sqlite3.Error, BrokenExecutor, OSError) as exc:
            # The articles are saved; they stay pending and the next run places them.
            log.warning("story placement stopped (%s); run 'tracker stories update'", exc)
            stories = PlaceReport()
        # Then the entities: new list names in stored articles, new articles' list names.
        try:
            links = link_articles(store, companies_of(tagger.entries), should_stop=stop.is_set)
        except sqlite3.Error as exc:
            log.warning("linking articles to entities stopped (%s); the next fetch goes on", exc)
            links = LinkReport()
    except BaseException:
        # Ctrl-C or SIGTERM: tell the source threads to stop after their current article (what
        # they committed stays), and drop the work not yet started.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        extractor.close(cancel=True)
        raise
    pool.shutdown(wait=True)
    extractor.close()
    return FetchReport(sources=results, stories=stories, links=links)


def _why_skip(store: Store, name: str, now: datetime) -> tuple[str | None, datetime | None]:
    """Why a source is not fetched this run, and when it is due again (None: it is due)."""
    state = store.source_state(name)
    if not state:
        return None, None
    if state.get("disabled_reason"):
        return f"disabled: {state['disabled_reason']}", None
    due = datetime.fromisoformat(state["next_attempt_at"]) if state.get("next_attempt_at") else None
    if due and due > now:
        failures = state.get("consecutive_failures") or 0
        return f"backing off after {failures} failure(s) until {due:%Y-%m-%d %H:%M} UTC", due
    return None, None


def _record_health(store: Store, result: SourceReport, now: datetime) -> None:
    if result.error is None:
        store.record_source_run(result.name, now, new=result.new)
        return
    failures = ((store.source_state(result.name) or {}).get("consecutive_failures") or 0) + 1
    store.record_source_run(
        result.name,
        now,
        error=result.error,
        # A name that does not resolve is most often the machine (offline, a resolver down):
        # no backoff, or a night offline would hold every source back the next morning.
        next_attempt_at=None
        if result.unresolved
        else next_attempt(failures, now, result.retry_after),
        disabled_reason=gone_reason(now) if result.error_status == 410 else None,
    )


@dataclass
class _Run:
    """What every source of one run shares: the store, the network, the tagger, the clock."""

    store: Store | None  # None: a preview that writes nothing
    fetcher: Fetcher
    tagger: Tagger
    now: Callable[[], datetime]
    refetch: bool
    progress: Progress
    workers: int
    extractor: Extractor
    stop: threading.Event
    budget: float | None = None  # seconds one source may take (source_deadline)


def _run_source(run: _Run, source: Source) -> SourceReport:
    """Fetch one source and save it in batches: a run stopped midway keeps what it finished.

    Whatever goes wrong inside is this source's failure (logged and backed off), never the run's.
    """
    store = run.store
    assert store is not None
    report = SourceReport(source.name)
    entries: list[LogEntry] = []
    batch: list[tuple[Article, list[TagHit]]] = []
    ends = time.monotonic() + run.budget if run.budget else None

    def save(validators: tuple[str, str | None, str | None] | None = None) -> None:
        counts = store.save_batch(
            source.name, batch, now=run.now(), log=entries, validators=validators
        )
        report.new += counts.new
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        batch.clear()
        entries.clear()

    try:
        got = _collect(run, source, report, entries)
        if got is None:
            store.log_fetches(entries, run.now())
            return report
        if got.record is not None:  # a list snapshot, applied by the kind: no articles
            report.new = got.record.added
            report.updated = got.record.revised + got.record.removed
            report.unchanged = got.record.entries - got.record.added - got.record.revised
            store.log_fetches(entries, run.now())
            return report
        for tagged in _articles(run, source, got, report, entries, ends):
            batch.append(tagged)
            if len(batch) >= BATCH:
                save()
        # The feed's validators go with the last batch: a run stopped before it asks again.
        save(got.validators)
    except _Stopped:
        save()
        report.interrupted = True
    except _OutOfTime as late:
        # Not a failure: the source answers, it is only big or slow. The feed's validators are
        # not saved, so the next run reads it again and goes on with the items left.
        save()
        report.left = late.left
    except sqlite3.Error:
        raise  # the store itself failed (full disk, damaged file): the run cannot go on
    except Exception as exc:  # one source's bug must not take down the others
        log.warning("%s failed unexpectedly: %r", source.name, exc, exc_info=True)
        report.error = f"internal error: {type(exc).__name__}: {exc}"[:300]
        entries.append(LogEntry(source.name, source.url, "source", error=report.error))
        store.log_fetches(entries, run.now())
    return report


def preview_source(
    fetcher: Fetcher,
    source: Source,
    tagger: Tagger,
    *,
    now: Callable[[], datetime] = utc_now,
) -> tuple[SourceReport, list[tuple[Article, list[TagHit]]]]:
    """Fetch a source once and build its articles, writing nothing (``tracker sources test``)."""
    run = _Run(None, fetcher, tagger, now, True, NoProgress(), 4, Extractor(1), threading.Event())
    report = SourceReport(source.name)
    entries: list[LogEntry] = []
    got = _collect(run, source, report, entries)
    if got is None:
        return report, []
    return report, list(_articles(run, source, got, report, entries))


class _Stopped(Exception):
    """The run was asked to stop (Ctrl-C, SIGTERM)."""


class _OutOfTime(Exception):
    """The source used up its time (``source_deadline``)."""

    def __init__(self, left: int) -> None:
        super().__init__(f"{left} items left")
        self.left = left


def _collect(
    run: _Run, source: Source, report: SourceReport, entries: list[LogEntry]
) -> Collected | None:
    """The source's items, or None when it failed or has nothing new (the report says which)."""
    try:
        got = collect(run.store, run.fetcher, source, entries, run.now())
    except (FetchError, ParseError) as exc:
        report.error = exc.reason if isinstance(exc, FetchError) else str(exc)
        report.error_status = exc.status if isinstance(exc, FetchError) else None
        report.retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        report.unresolved = isinstance(exc, FetchError) and exc.unresolved
        if entries and entries[-1].error is None:
            entries[-1].error = report.error  # fetched fine, but the body was unusable
        log.info("%s failed: %s", source.name, report.error)  # the CLI reports failures itself
        run.progress.start(source.name, 0)
        return None
    if got.not_modified:
        report.not_modified = True
        run.progress.start(source.name, 0)
        return None
    report.warning = got.warning
    report.note = "; ".join(got.notes) or None
    good = [i for i in got.items if usable_link(i.url)]
    report.bad_items += len(got.items) - len(good)
    for item in got.items:
        if not usable_link(item.url):
            log.warning("%s: skipped an item with an unusable link %r", source.name, item.url[:200])
    got.items = good
    return got


def _articles(
    run: _Run,
    source: Source,
    got: Collected,
    report: SourceReport,
    entries: list[LogEntry],
    ends: float | None = None,
) -> Iterator[tuple[Article, list[TagHit]]]:
    """Each item's article, tagged, in feed order; bad items are skipped and counted.

    Raises:
        _Stopped: the run was asked to stop. _OutOfTime: ``time.monotonic()`` passed ``ends``.
    """
    items, fetch_pages = got.items, got.fetch_pages
    run.progress.start(source.name, len(items))
    known = set()
    # Without page fetches a stored article is still passed on: another source carrying it is
    # recorded, and the store never lets a summary replace a page's text.
    if run.store is not None and not run.refetch and fetch_pages:
        known = run.store.known_ids((article_id(i.url) for i in items), pages=True)
    todo = [i for i in items if article_id(i.url) not in known]
    report.unchanged += len(items) - len(todo)  # already stored: their pages are not fetched again
    for _ in range(len(items) - len(todo)):
        run.progress.advance(source.name)
    weights = run.tagger.weights()
    if fetch_pages:
        run.extractor.use_pool(len(todo))
    pages = prefetch(
        run.fetcher, run.extractor, source, todo, fetch_pages, run.workers, run.now().date()
    )
    try:
        for done, (item, page) in enumerate(pages):
            if run.stop.is_set():
                raise _Stopped
            if ends is not None and time.monotonic() > ends:
                raise _OutOfTime(len(todo) - done)
            try:
                if page is not None:
                    page.extract(run.extractor, run.now().date())
                    entries.append(page.entry)
                article = _build_article(source, item, page, report, run.now(), got.lang)
                hits = run.tagger.tag(article.title, article.text, article.lang)
                article.relevance = relevance(hits, weights)
            except (BrokenExecutor, _Stopped, _OutOfTime):
                raise
            except Exception as exc:  # one bad item never costs the others
                report.bad_items += 1
                log.warning("%s: skipped %s: %r", source.name, item.url[:200], exc)
                continue
            finally:
                run.progress.advance(source.name)
            yield article, hits
    finally:
        pages.close()  # stops the page threads early when the loop ended early


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
    outcome = None
    fields = dict(item.fields)
    if page is not None:
        content = page.content
        if page.error is not None:
            report.pages_failed += 1
            page.entry.error = page.error
            outcome = "failed"
        elif content is None:
            report.no_text += 1
            page.entry.error = "no main text found; kept the feed summary"
            outcome = "no-text"
        else:
            outcome = "ok"
        if content is not None:
            title = content.title or title
            text, extracted = content.text, True
            author = content.author or author
            if content.published_on or not page.plain:
                published = merge_published(content.published_on, item.published_at, now)
            lang_hint = content.lang_hint or lang_hint
        if KINDS[source.kind].redirect_names_publisher and page.final_url not in (None, item.url):
            fields["publisher_url"] = page.final_url  # the redirect revealed the publisher's page
    # Extracted text and feed summaries are clean already (clean_text ran in extract / feeds);
    # every text an API hands over still loses its control characters here, before storage.
    title = clean_text(title).replace("\n", " ")
    text, author = strip_controls(text), strip_controls(author).replace("\n", " ")
    return Article(
        url=item.url,
        source=source.name,
        title=title,
        text=text,
        summary=strip_controls(item.summary),
        author=author,
        published_at=published,
        lang=detect_lang(f"{title}\n{text}", lang_hint),
        extracted=extracted,
        page=outcome,
        fields=fields,
    )
