"""Google News RSS searches: a query and an edition build the feed URL; titles lose " - Publisher"."""

from __future__ import annotations

from urllib.parse import urlencode

from tracker.models import FeedItem

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
