"""Source kinds: each turns fetched bytes into :class:`~tracker.models.FeedItem` objects.

``rss`` (RSS 0.9x/1.0/2.0 and Atom) lives in :mod:`tracker.ingest.sources.feeds`; ``page`` (an HTML listing
whose links are articles) in :mod:`tracker.ingest.sources.pages`.
"""

from tracker.ingest.sources.feeds import ParsedFeed, parse_feed
from tracker.ingest.sources.pages import parse_listing

__all__ = ["ParsedFeed", "parse_feed", "parse_listing"]
