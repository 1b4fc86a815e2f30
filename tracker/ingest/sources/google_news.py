"""Google News RSS searches: a query and an edition build the feed URL; titles lose " - Publisher"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tracker.ingest.sources.base import Collected, SourceKind, Visit
from tracker.ingest.sources.feeds import collect_feed
from tracker.models import FeedItem, Source

GOOGLE_NEWS_RSS = "https://news.google.com/rss/search"

# edition -> (hl, gl, ceid) and the language of its articles
EDITIONS = {
    "en-US": (("en-US", "US", "US:en"), "en"),
    "zh-CN": (("zh-CN", "CN", "CN:zh-Hans"), "zh-Hans"),
    "zh-TW": (("zh-TW", "TW", "TW:zh-Hant"), "zh-Hant"),
    "zh-HK": (("zh-HK", "HK", "HK:zh-Hant"), "zh-Hant"),
}


def google_news_url(base: str, query: str, edition: str = "en-US") -> str:
    """The RSS search URL for ``query`` in ``edition`` (en-US, zh-CN, zh-TW, zh-HK)."""
    (hl, gl, ceid), _ = EDITIONS[edition]
    return f"{base}?{urlencode({'q': query, 'hl': hl, 'gl': gl, 'ceid': ceid})}"


def edition_lang(edition: str) -> str:
    return EDITIONS[edition][1]


def split_publisher(item: FeedItem, source_title: str | None = None) -> FeedItem:
    """Move the " - Publisher" title suffix into ``fields["publisher"]``.

    The entry's ``<source>`` names the publisher when present; otherwise the last " - " part of
    the title does. The Google link stays the article's URL.
    """
    title = item.title
    publisher = source_title or ""
    if publisher and title.endswith(f" - {publisher}"):
        title = title[: -len(publisher) - 3]
    elif not publisher and " - " in title:
        title, publisher = title.rsplit(" - ", 1)
    item.title = title.strip()
    if publisher:
        item.fields["publisher"] = publisher.strip()
    return item


def _url(source: Source) -> str:
    return google_news_url(
        source.url, source.options["query"], source.options.get("edition", "en-US")
    )


def _collect(visit: Visit) -> Collected:
    got, feed = collect_feed(visit, _url(visit.source))
    got.items = [split_publisher(i, i.fields.pop("feed_source", None)) for i in got.items]
    if feed is not None:
        got.lang = edition_lang(visit.source.options.get("edition", "en-US"))
    return got


def _check(raw: Mapping[str, Any]) -> str | None:
    if "edition" in raw and raw["edition"] not in EDITIONS:
        return f"edition must be one of {', '.join(EDITIONS)}"
    return None


GOOGLE_NEWS = SourceKind(
    name="google-news",
    keys={"query": str, "edition": str, "fetch_articles": bool, "max_items": int},
    required=("query",),
    default_url=GOOGLE_NEWS_RSS,
    collect=_collect,
    check=_check,
    feed_url=_url,
    redirect_names_publisher=True,
)
