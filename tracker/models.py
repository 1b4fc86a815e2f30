"""Dataclasses passed between the stages of the river: source -> item -> article."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Source:
    """One configured source.

    ``options`` holds the per-kind keys (``fetch_articles``, ``link_selector``, ...), already checked.
    """

    name: str
    kind: str
    url: str
    enabled: bool = True
    lang: str | None = None
    min_interval: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    official: bool = False  # a government's own record (the digest's "official actions")
    title: str | None = None  # the name readers see (``name`` may be a slug)

    @property
    def display_name(self) -> str:
        return self.title or self.name


@dataclass
class FeedItem:
    """One entry found in a feed or listing page, before its article page (if any) is read."""

    url: str
    title: str = ""
    summary: str = ""
    author: str = ""
    published_at: datetime | None = None
    guid: str = ""
    text_url: str | None = None  # where the full text is, when not at ``url`` (FR raw text)
    fields: dict[str, Any] = field(default_factory=dict)  # kind-specific columns, passed through


@dataclass
class Article:
    """A clean article ready to tag and store. ``text`` is for display; matching folds it."""

    url: str
    source: str
    title: str
    text: str
    summary: str = ""
    author: str = ""
    published_at: datetime | None = None
    lang: str | None = None
    extracted: bool = False  # True when the text came from the article page, not the feed
    page: str | None = None  # the page's outcome: ok | no-text | failed; None when not fetched
    relevance: float | None = None  # 0..1, how much it is about export controls (tagging.relevance)
    fields: dict[str, Any] = field(default_factory=dict)  # kind-specific columns (FR number, ...)


@dataclass(frozen=True)
class TagHit:
    """One vocabulary entry found in an article."""

    kind: str
    slug: str
    name: str
    count: int
    in_title: bool

    @property
    def tag_id(self) -> str:
        return f"{self.kind}:{self.slug}"
