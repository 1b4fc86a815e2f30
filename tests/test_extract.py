"""Extraction from article pages: main text without clutter, metadata, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tracker.demo.site import load_articles, render_page
from tracker.ingest.extract import extract_article, merge_published

ARTICLES = {a["slug"]: a for a in load_articles()}


@pytest.mark.parametrize(
    "slug", ["gallium-germanium-exports-fall", "shiti-qingdan-xinzeng", "tw-shiti-qingdan-big5"]
)
def test_main_text_without_navigation_cookies_or_related_links(slug: str) -> None:
    article = ARTICLES[slug]
    page = render_page(article).body.decode(article.get("encoding", "utf-8"))
    got = extract_article(page, "https://demo.test/a.html")
    assert got is not None
    assert got.title == article["title"]
    for paragraph in article["body"]:
        assert paragraph in got.text
    for clutter in ("cookie", "Cookie", "Samsung", "三星", "美光", "Terms", "版权所有", "版權所有"):
        assert clutter not in got.text
    assert got.published_on == date.fromisoformat(article["date"][:10])
    assert got.author == article["author"]
    assert got.lang_hint == article["lang"]


def test_short_chinese_article_keeps_paragraphs_apart_from_byline() -> None:
    article = ARTICLES["shiti-qingdan-xinzeng"]
    got = extract_article(render_page(article).body.decode(), "https://demo.test/a.html")
    assert got is not None
    assert got.text.splitlines() == article["body"]


def test_page_without_main_text_gives_none() -> None:
    html = "<html><body><nav><a href='/'>Home</a></nav><div id='app'></div></body></html>"
    assert extract_article(html, "https://demo.test/js-only") is None


def test_future_date_on_the_page_is_rejected() -> None:
    html = render_page(
        dict(ARTICLES["asml-duv-servicing"], date="2031-01-01T00:00:00Z")
    ).body.decode()
    got = extract_article(html, "https://demo.test/a.html", today=date(2026, 11, 30))
    assert got is not None
    assert got.published_on is None


def test_feed_time_of_day_is_kept_when_page_and_feed_agree_on_the_day() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    feed = datetime(2025, 8, 12, 9, 30, tzinfo=UTC)
    assert merge_published(date(2025, 8, 12), feed, now) == feed


def test_page_day_wins_over_a_feed_stamped_with_the_crawl_time() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert merge_published(date(2025, 8, 12), datetime(2025, 9, 1, tzinfo=UTC), now) == datetime(
        2025, 8, 12, tzinfo=UTC
    )


def test_feed_time_in_the_future_is_dropped() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert merge_published(None, datetime(2027, 1, 1, tzinfo=UTC), now) is None
