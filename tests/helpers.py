"""Builders for fixture feeds and pages, written for the tests (no third-party news text)."""

from __future__ import annotations

import html
import time
from datetime import datetime
from email.utils import format_datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def rss(items: list[dict[str, str]], title: str = "Fixture feed") -> str:
    """An RSS 2.0 feed; each item has title, link and optional description / date (ISO)."""
    parts = []
    for item in items:
        date = ""
        if item.get("date"):
            date = f"<pubDate>{format_datetime(datetime.fromisoformat(item['date']), usegmt=True)}</pubDate>"
        parts.append(
            f"<item><title>{html.escape(item['title'])}</title><link>{item['link']}</link>{date}"
            f"<description>{html.escape(item.get('description', ''))}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>http://x.test/</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    )


def article_page(
    title: str, paragraphs: list[str], *, date: str = "2025-08-12", lang: str = "en"
) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta property="article:published_time" content="{date}T08:00:00Z"></head><body>'
        '<nav><a href="/">Home</a> <a href="/samsung">Samsung deals</a></nav>'
        f"<article><h1>{html.escape(title)}</h1>{body}</article>"
        '<aside><a href="/r">Micron opens a plant</a></aside></body></html>'
    )


LONG_EN = [
    "The Bureau of Industry and Security added two dozen companies to the Entity List on Tuesday, "
    "citing their support for advanced chipmaking in China.",
    "Exporters will need a licence for items subject to the regulations, and most applications will be "
    "reviewed under a presumption of denial, officials said.",
]


def serve_news(
    server: HTTPServer, n: int, *, feed_delay: float = 0.0, page_delay: float = 0.0
) -> None:
    """An RSS feed of ``n`` items at /feed.xml and their article pages at /a/<i>, each answer
    after its delay (the fault tests and benchmarks/faults.py share it)."""
    items = [
        {
            "title": f"Commerce adds firm {i} to the Entity List",
            "link": server.url_for(f"/a/{i}"),
            "description": f"Summary {i}.",
        }
        for i in range(n)
    ]
    body = rss(items)

    def feed(request: Request) -> Response:
        time.sleep(feed_delay)
        return Response(body, content_type="application/rss+xml")

    def page(request: Request) -> Response:
        time.sleep(page_delay)
        i = request.path.rsplit("/", 1)[1]
        markup = article_page(
            f"Commerce adds firm {i} to the Entity List", [*LONG_EN, f"Firm {i}."]
        )
        return Response(markup, content_type="text/html; charset=utf-8")

    server.expect_request("/feed.xml").respond_with_handler(feed)
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    for i in range(n):
        server.expect_request(f"/a/{i}").respond_with_handler(page)
