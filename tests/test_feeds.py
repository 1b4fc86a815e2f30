"""Feeds of every family, malformed feeds that still have entries, and things that are not feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.errors import ParseError
from tracker.ingest.sources.feeds import parse_feed
from tracker.ingest.sources.pages import parse_listing

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>Entity List additions</title><link>https://a.test/1?utm_source=rss</link>
<pubDate>Tue, 12 Aug 2025 09:00:00 GMT</pubDate><author>desk@a.test (Desk)</author>
<description>&lt;p&gt;BIS added &lt;b&gt;23&lt;/b&gt; firms.&lt;/p&gt;</description></item>
<item><title>No link here</title></item>
</channel></rss>"""

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://n.test/"><title>n</title><link>https://n.test/</link><description>d</description></channel>
<item rdf:about="https://n.test/a"><title>Japan tool controls</title><link>https://n.test/a</link>
<dc:date>2025-07-08T03:20:00Z</dc:date><description>Tokyo Electron sees limited impact.</description></item>
</rdf:RDF>"""

RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>o</title><link>https://o.test/</link>
<description>d</description><item><title>Old style</title><link>https://o.test/x</link>
<description>gallium</description></item></channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>a</title>
<id>urn:x</id><updated>2025-12-09T18:00:00Z</updated>
<entry><title>川普宣布允許輝達H200銷往中國</title><link href="/tw/h200.html"/><id>urn:1</id>
<updated>2025-12-09T18:00:00Z</updated><author><name>示範</name></author>
<content type="html">&lt;p&gt;第一段。&lt;/p&gt;&lt;p&gt;第二段。&lt;/p&gt;</content></entry></feed>""".encode()


def test_rss2_items_have_clean_fields() -> None:
    feed = parse_feed(RSS2, {"content-type": "application/rss+xml"}, "https://a.test/feed")
    assert len(feed.items) == 1  # the entry without a link cannot be stored and is skipped
    item = feed.items[0]
    assert item.title == "Entity List additions"
    assert item.summary == "BIS added 23 firms."
    assert item.published_at == datetime(2025, 8, 12, 9, 0, tzinfo=UTC)
    assert feed.warning is None


def test_rss1_rdf_is_read() -> None:
    feed = parse_feed(RSS1, {}, "https://n.test/rss")
    assert [i.url for i in feed.items] == ["https://n.test/a"]
    assert feed.items[0].published_at == datetime(2025, 7, 8, 3, 20, tzinfo=UTC)


def test_rss091_is_read() -> None:
    assert parse_feed(RSS091, {}, "https://o.test/").items[0].summary == "gallium"


def test_atom_relative_links_resolve_and_content_beats_summary() -> None:
    feed = parse_feed(ATOM, {}, "https://tw.test/feeds/tw.atom")
    item = feed.items[0]
    assert item.url == "https://tw.test/tw/h200.html"
    assert item.summary.splitlines() == ["第一段。", "第二段。"]
    assert item.author == "示範"


def test_bozo_feed_with_entries_keeps_them_and_warns() -> None:
    broken = RSS2.replace(b"Entity List additions", b"Entity List & more")  # a bare & is not XML
    feed = parse_feed(broken, {}, "https://a.test/feed")
    assert feed.items
    assert feed.items[0].title == "Entity List & more"
    assert feed.warning


def test_html_page_where_a_feed_was_expected() -> None:
    with pytest.raises(ParseError, match="HTML page"):
        parse_feed(
            b"<!DOCTYPE html><html><body>Welcome</body></html>", {"content-type": "text/html"}, "u"
        )


def test_empty_body_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="empty body"):
        parse_feed(b"", {}, "u")


def test_garbage_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="feed"):
        parse_feed(b"\x00\x01 this is not xml at all {", {"content-type": "application/xml"}, "u")


LISTING = """<html><body><nav><a href="/">Home</a><a href="/about">About</a></nav>
<ul class="headlines"><li><a href="/p/1.html">First rule</a></li><li><a href="/p/2.html#top">Second</a></li>
<li><a href="/p/1.html">First rule again</a></li><li><span>no link</span></li></ul></body></html>"""


def test_listing_selector_picks_article_links_in_order_without_repeats() -> None:
    items = parse_listing(LISTING, "https://bis.test/news/", "ul.headlines li")
    assert [i.url for i in items] == ["https://bis.test/p/1.html", "https://bis.test/p/2.html"]
    assert items[0].title == "First rule"


def test_listing_limit() -> None:
    assert len(parse_listing(LISTING, "https://bis.test/", "ul.headlines a", limit=1)) == 1


def test_listing_selector_that_matches_nothing_says_the_page_changed() -> None:
    with pytest.raises(ParseError, match="matched no links"):
        parse_listing(LISTING, "https://bis.test/", "div.story a")


def test_invalid_selector_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="invalid link_selector"):
        parse_listing(LISTING, "https://bis.test/", "ul[[")
