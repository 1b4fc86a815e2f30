"""A source's items, collected by its kind (:mod:`tracker.ingest.sources`).

Article pages (or full texts) are fetched later, by the pipeline, for all kinds alike. Every
request made here is appended to ``entries`` (the fetch log).
"""

from __future__ import annotations

from datetime import datetime

from tracker.ingest.http import Fetcher
from tracker.ingest.sources import KINDS
from tracker.ingest.sources.base import Collected, Visit, get
from tracker.models import Source
from tracker.store import LogEntry, Store

__all__ = ["Collected", "collect", "feed_url", "get"]


def collect(
    store: Store | None, fetcher: Fetcher, source: Source, entries: list[LogEntry], now: datetime
) -> Collected:
    """Items of ``source``. Without a store (``sources test``) nothing stored is consulted.

    Raises:
        FetchError, ParseError: the source as a whole failed.
    """
    return KINDS[source.kind].collect(Visit(store, fetcher, source, entries, now))


def feed_url(source: Source) -> str | None:
    """The RSS/Atom URL of a feed source (a Google News search builds its own); None otherwise."""
    return KINDS[source.kind].feed_url(source)
