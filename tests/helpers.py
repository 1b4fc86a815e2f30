"""Builders for fixture feeds and pages, written for the tests (no third-party news text)."""

from __future__ import annotations

import html
from datetime import datetime
from email.utils import format_datetime


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
