"""Article pages fetched ahead of extraction, a few at a time, in order, with bounded memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import islice

from tracker.errors import FetchError, ParseError
from tracker.ingest.extract import Extracted
from tracker.ingest.http import Fetcher, FetchResult
from tracker.ingest.pool import Extractor
from tracker.ingest.sources.base import get
from tracker.ingest.sources.decode import decode_bytes
from tracker.ingest.sources.feeds import html_to_text
from tracker.models import FeedItem, Source
from tracker.store import LogEntry
from tracker.textnorm import clean_text


@dataclass
class Page:
    """An article page as a fetch thread left it: fetched, perhaps extracted, or why it failed."""

    entry: LogEntry
    result: FetchResult | None = None
    content: Extracted | None = None
    error: str | None = None
    plain: bool = False  # a full-text file (FR raw text), not an article page to extract from
    final_url: str | None = None  # where redirects ended (reveals a Google News publisher)

    def extract(self, extractor: Extractor, today: date) -> None:
        """Decode and extract the fetched bytes (once), then let them go."""
        res, self.result = self.result, None
        if res is None:
            return
        try:
            if self.plain:
                self.content = _plain_text(res)
            else:
                self.content = extractor(res.content, res.charset, res.url, today)
        except ParseError as exc:
            self.error = str(exc)


def _fetch_page(
    fetcher: Fetcher,
    extractor: Extractor,
    source: Source,
    url: str,
    text_url: str | None,
    today: date,
) -> Page:
    entries: list[LogEntry] = []
    plain = text_url is not None
    try:
        result = get(fetcher, source, text_url or url, "text" if plain else "page", entries)
    except FetchError as exc:
        return Page(entries[-1], error=exc.reason, plain=plain)
    page = Page(entries[-1], result=result, plain=plain, final_url=result.url)
    if extractor.pooled and not plain:
        # This thread waits on a worker process, not on the GIL: extraction runs on another core.
        # In-process extraction stays on the main thread, where threads would only contend.
        page.extract(extractor, today)
    return page


def prefetch(
    fetcher: Fetcher,
    extractor: Extractor,
    source: Source,
    items: list[FeedItem],
    fetch_pages: bool,
    workers: int,
    today: date,
) -> Generator[tuple[FeedItem, Page | None], None, None]:
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
        pending: deque[tuple[FeedItem, Future[Page]]] = deque()
        queue = iter(items)
        for item in islice(queue, window):
            pending.append(
                (
                    item,
                    pool.submit(
                        _fetch_page, fetcher, extractor, source, item.url, item.text_url, today
                    ),
                )
            )
        while pending:
            item, future = pending.popleft()
            for nxt in islice(queue, 1):
                pending.append(
                    (
                        nxt,
                        pool.submit(
                            _fetch_page, fetcher, extractor, source, nxt.url, nxt.text_url, today
                        ),
                    )
                )
            yield item, future.result()


def _plain_text(res: FetchResult) -> Extracted:
    """A full-text file: plain text, or the HTML-wrapped text the FR serves as raw text."""
    body = decode_bytes(res.content, res.charset)
    text = html_to_text(body) if "<" in body[:2000] else clean_text(body)
    return Extracted(title="", text=text, author="", published_on=None, lang_hint=None)
