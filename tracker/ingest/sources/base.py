"""What a source kind is: its ``[[sources]]`` keys, its defaults, and how it collects items.

A kind module defines a :class:`SourceKind` and adds one line to the registry in
:mod:`tracker.ingest.sources`. Kind modules stay light at import (the config loader reads the
registry to check each ``[[sources]]`` table): their parsers import feedparser, bs4 and the HTTP
stack inside the functions that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tracker.errors import FetchError
from tracker.models import FeedItem, Source

if TYPE_CHECKING:
    from tracker.ingest.http import Fetcher, FetchResult
    from tracker.store import LogEntry, Store

KeyTypes = Mapping[str, type | tuple[type, ...]]


@dataclass
class RecordCounts:
    """What a list snapshot changed (the ``screening-list`` kind stores entries, not articles)."""

    added: int = 0
    revised: int = 0
    removed: int = 0
    entries: int = 0


@dataclass
class Collected:
    """What one source yielded: its items, and how the pipeline should go on with them."""

    items: list[FeedItem] = field(default_factory=list)
    fetch_pages: bool = False  # fetch each item's page (or text_url) for its full text
    validators: tuple[str, str | None, str | None] | None = None  # feed URL, ETag, Last-Modified
    not_modified: bool = False
    warning: str | None = None
    lang: str | None = None  # the language the kind implies (a Google News edition)
    record: RecordCounts | None = None  # a list snapshot was applied (no items)
    notes: list[str] = field(default_factory=list)  # what it did besides (rules, notices read)


@dataclass
class Visit:
    """One source's collection: where to ask, what is stored, and the fetch log to append to."""

    store: Store | None  # None: a preview (``sources test``) consults nothing stored
    fetcher: Fetcher
    source: Source
    entries: list[LogEntry]
    now: datetime

    def get(self, url: str, kind: str, **validators: str | None) -> FetchResult:
        return get(self.fetcher, self.source, url, kind, self.entries, **validators)


def _no_check(raw: Mapping[str, Any]) -> str | None:
    return None


def _own_url(source: Source) -> str | None:
    return None


@dataclass(frozen=True)
class SourceKind:
    """One kind of source, as tracker.toml, the pipeline and ``tracker sources`` see it."""

    name: str
    keys: KeyTypes  # the keys this kind takes beyond every source's own (name, url, lang...)
    collect: Callable[[Visit], Collected]
    required: tuple[str, ...] = ()
    default_url: str | None = None  # when set, ``url`` may be left out
    check: Callable[[Mapping[str, Any]], str | None] = _no_check  # a problem with the values
    # The RSS/Atom URL a feed reader could subscribe to (OPML export), None for non-feeds.
    feed_url: Callable[[Source], str | None] = _own_url
    redirect_names_publisher: bool = False  # an item's link redirects to the publisher's page
    official: bool = False  # its documents are a government's own record by default


def get(
    fetcher: Fetcher,
    source: Source,
    url: str,
    kind: str,
    entries: list[LogEntry],
    **validators: str | None,
) -> FetchResult:
    """Fetch and append a fetch_log entry whatever happens."""
    from tracker.store import LogEntry

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
