"""Builds the sample site (path -> response) from ``articles.toml``.

Pages carry the clutter real news sites have (navigation, cookie banners, related-story links that
name other companies) so the demo and the tests exercise extraction, not just parsing.
"""

from __future__ import annotations

import hashlib
import html
import json
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from typing import Any

from tracker.config.load import Settings
from tracker.models import Source

SECTION_PATH = {"wire": "news", "zh": "zh", "tw": "tw", "policy": "policy"}
CLUTTER: dict[str, dict[str, Any]] = {
    "en": {
        "nav": ["Home", "Markets", "Technology", "Samsung Galaxy deals", "Intel earnings preview"],
        "cookie": "We use cookies to personalise content and ads. By continuing you accept our policy.",
        "related": [
            "Samsung unveils a foldable phone with a brighter hinge display",
            "Micron opens a memory packaging plant in Idaho",
            "Qualcomm and Apple settle a modem patent dispute",
        ],
        "footer": "© Demo News Network. All rights reserved. Terms | Privacy | Contact",
    },
    "zh": {
        "nav": ["首页", "科技", "财经", "三星新机发布会", "苹果秋季发布"],
        "cookie": "本网站使用Cookie以改善您的浏览体验，继续浏览即表示您同意我们的隐私政策。",
        "related": ["三星发布新款折叠屏手机", "美光在美国开设封装工厂", "小米汽车交付量创新高"],
        "footer": "示例新闻网 版权所有 未经授权禁止转载",
    },
    "zh-Hant": {
        "nav": ["首頁", "科技", "財經", "三星新機發表會", "蘋果秋季發表"],
        "cookie": "本網站使用Cookie以改善您的瀏覽體驗，繼續瀏覽即表示您同意我們的隱私權政策。",
        "related": ["三星發表新款摺疊手機", "美光在美國設立封裝廠", "鴻海電動車交車量創新高"],
        "footer": "示範新聞網 版權所有 未經授權禁止轉載",
    },
}


@dataclass
class Response:
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


DEMO_ORIGIN = "http://news.tracker-demo.test"  # .test is reserved: never a real site


def load_articles() -> list[dict[str, Any]]:
    text = resources.files("tracker.demo").joinpath("articles.toml").read_text("utf-8")
    return list(tomllib.loads(text)["article"])


def shifted(articles: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """The articles moved by whole days so the newest was published in the 24 hours before
    ``now``: the README's default windows (today's digest, stories and tags of the last 7
    days) show something whenever the demo runs. Times of day and gaps stay as written."""
    dates = [datetime.fromisoformat(a["date"]) for a in articles]
    newest = max(dates)
    days = (now.date() - newest.date()).days
    if newest + timedelta(days=days) > now:
        days -= 1
    return [
        {**a, "date": (d + timedelta(days=days)).isoformat().replace("+00:00", "Z")}
        for a, d in zip(articles, dates, strict=True)
    ]


def article_path(article: dict[str, Any]) -> str:
    return f"/{SECTION_PATH[article['section']]}/{article['slug']}.html"


def render_page(article: dict[str, Any]) -> Response:
    """One article page; served in the article's legacy encoding when it names one."""
    lang = article["lang"]
    clutter = CLUTTER["zh-Hant" if lang == "zh-Hant" else "zh" if lang.startswith("zh") else "en"]
    encoding = article.get("encoding", "utf-8")
    charset = {"gb18030": "gb2312", "big5": "big5"}.get(
        encoding, "utf-8"
    )  # labels sites really use
    esc = html.escape
    nav = " | ".join(f'<a href="/{i}">{esc(n)}</a>' for i, n in enumerate(clutter["nav"]))
    related = "".join(
        f'<li><a href="/related/{i}">{esc(r)}</a></li>' for i, r in enumerate(clutter["related"])
    )
    paragraphs = "".join(f"<p>{esc(p)}</p>" for p in article["body"])
    doc = f"""<!DOCTYPE html>
<html lang="{article["lang"]}"><head><meta charset="{charset}">
<title>{esc(article["title"])} | Demo News</title>
<meta property="og:title" content="{esc(article["title"])}">
<meta property="article:published_time" content="{article["date"]}">
<meta name="author" content="{esc(article["author"])}">
</head><body>
<header><div class="logo">Demo News</div><nav>{nav}</nav></header>
<div id="cookie-banner" class="cookie-consent">{esc(clutter["cookie"])} <button>OK</button></div>
<main><article>
<h1>{esc(article["title"])}</h1>
<div class="byline">{esc(article["author"])} · <time datetime="{article["date"]}">{article["date"][:10]}</time></div>
{paragraphs}
</article>
<aside class="related"><h3>Related</h3><ul>{related}</ul></aside></main>
<footer>{esc(clutter["footer"])}</footer>
</body></html>"""
    return Response(doc.encode(encoding), f"text/html; charset={charset}")


def _rss(title: str, base: str, articles: list[dict[str, Any]]) -> Response:
    items = []
    for a in articles:
        when = format_datetime(datetime.fromisoformat(a["date"]), usegmt=True)
        items.append(
            f"<item><title>{html.escape(a['title'])}</title><link>{base}{article_path(a)}</link>"
            f"<guid>{base}{article_path(a)}</guid><pubDate>{when}</pubDate>"
            f"<description>{html.escape(a['body'][0])}</description></item>"
        )
    doc = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>{base}/</link><description>Demo</description>"
        + "".join(items)
        + "</channel></rss>"
    )
    return Response(doc.encode("utf-8"), "application/rss+xml; charset=utf-8")


def _atom(title: str, base: str, articles: list[dict[str, Any]]) -> Response:
    entries = []
    for a in articles:
        content = "".join(f"<p>{html.escape(p)}</p>" for p in a["body"])
        entries.append(
            f"<entry><title>{html.escape(a['title'])}</title>"
            f'<link href="{base}{article_path(a)}"/><id>{base}{article_path(a)}</id>'
            f"<updated>{a['date']}</updated><published>{a['date']}</published>"
            f"<author><name>{html.escape(a['author'])}</name></author>"
            f'<content type="html">{html.escape(content)}</content></entry>'
        )
    updated = max((a["date"] for a in articles), default="")
    doc = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html.escape(title)}</title><id>{base}/tw/</id><updated>{updated}</updated>"
        + "".join(entries)
        + "</feed>"
    )
    return Response(doc.encode("utf-8"), "application/atom+xml; charset=utf-8")


def _listing(articles: list[dict[str, Any]]) -> Response:
    links = "".join(
        f'<li class="headline"><a href="{article_path(a)}">{html.escape(a["title"])}</a></li>'
        for a in articles
    )
    doc = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Policy updates</title></head>
<body><nav><a href="/">Home</a> <a href="/about">About</a> <a href="/feeds/wire.xml">RSS</a></nav>
<h1>Policy updates</h1><ul class="headlines">{links}</ul>
<footer><a href="/privacy">Privacy</a></footer></body></html>"""
    return Response(doc.encode("utf-8"), "text/html; charset=utf-8")


def build_site(base: str, articles: list[dict[str, Any]] | None = None) -> dict[str, Response]:
    """Every path of the sample site, with absolute links under ``base`` (``http://127.0.0.1:PORT``)."""
    articles = articles if articles is not None else load_articles()
    by_section: dict[str, list[dict[str, Any]]] = {}
    for a in articles:
        by_section.setdefault(a["section"], []).append(a)
    site = {article_path(a): render_page(a) for a in articles}
    site["/robots.txt"] = Response(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    site["/feeds/wire.xml"] = _rss("Demo Wire", base, by_section.get("wire", []))
    site["/feeds/zh.xml"] = _rss("示例科技", base, by_section.get("zh", []))
    site["/feeds/tw.atom"] = _atom("示範新聞網", base, by_section.get("tw", []))
    site["/policy/"] = _listing(by_section.get("policy", []))
    lists = resources.files("tracker").joinpath("demo/lists.csv").read_bytes()
    site["/lists/consolidated.csv"] = Response(lists, "text/csv; charset=utf-8")
    site["/api/v1/documents.json"] = _federal_register(base, articles)
    rule = resources.files("tracker").joinpath("demo/el_rule.xml").read_bytes()
    site["/fr/full_text/xml/2026-99002.xml"] = Response(rule, "application/xml")
    return site


def _federal_register(base: str, articles: list[dict[str, Any]]) -> Response:
    """Two rules in the Federal Register API's shape, dated from the newest article. One takes
    effect ten days on and closes comments in forty, so the demo has deadlines (``tracker
    deadlines``, the digest's "Coming up", the reader's deadlines page); the other adds an
    entity to the Entity List, so it has a list change (``tracker lists changes``)."""
    newest = max(datetime.fromisoformat(a["date"].replace("Z", "+00:00")) for a in articles)
    day = newest.date()
    number = "2026-99001"  # a number no real document has: the demo's own
    doc = {
        "document_number": number,
        "title": "Revisions to License Exception ACA; Request for Comments (demo)",
        "type": "Rule",
        "action": "Interim final rule; request for comments.",
        "abstract": "The demo Bureau of Industry and Security revises License Exception "
        "Advanced Computing Authorized (ACA) for exports of advanced computing items to "
        "China and asks for comments on the change.",
        "publication_date": day.isoformat(),
        "effective_on": (day + timedelta(days=10)).isoformat(),
        "comments_close_on": (day + timedelta(days=40)).isoformat(),
        "html_url": f"{base}/fr/documents/{number}",
        "citation": "91 FR 99001",
        "agencies": [{"slug": "industry-and-security-bureau"}],
    }
    # An Entity List rule, read into list events the day it is published (the lists page).
    rule_number = "2026-99002"
    rule = {
        "document_number": rule_number,
        "title": "Entity List: Addition of Cambricon Technologies (demo)",
        "type": "Rule",
        "action": "Final rule.",
        "abstract": "The demo Bureau of Industry and Security adds one entity under China to "
        "the Entity List, with a licence requirement for all items subject to the EAR.",
        "publication_date": day.isoformat(),
        "html_url": f"{base}/fr/documents/{rule_number}",
        "full_text_xml_url": f"{base}/fr/full_text/xml/{rule_number}.xml",
        "citation": "91 FR 99002",
        "agencies": [{"slug": "industry-and-security-bureau"}],
    }
    body = json.dumps({"count": 2, "results": [doc, rule]}).encode("utf-8")
    return Response(body, "application/json")


def demo_sources(base: str) -> list[Source]:
    """The sources ``tracker demo`` fetches: one of each kind the pipeline supports."""
    fast = 0.0  # loopback: no need to be polite to ourselves
    return [
        Source(
            "demo-wire",
            "rss",
            f"{base}/feeds/wire.xml",
            lang="en",
            min_interval=fast,
            options={"fetch_articles": True},
            title="Demo Wire",
        ),
        Source(
            "demo-zh",
            "rss",
            f"{base}/feeds/zh.xml",
            lang="zh-Hans",
            min_interval=fast,
            options={"fetch_articles": True},
            title="示例科技",
        ),
        Source(
            "demo-tw",
            "rss",
            f"{base}/feeds/tw.atom",
            lang="zh-Hant",
            min_interval=fast,
            title="示範新聞網",
        ),
        Source(
            "demo-policy",
            "page",
            f"{base}/policy/",
            min_interval=fast,
            options={"link_selector": "ul.headlines li.headline a", "max_links": 50},
            official=True,  # the sample site's stand-in for a government's own pages
            title="Demo Policy Register",
        ),
        Source(
            "demo-lists",
            "screening-list",
            f"{base}/lists/consolidated.csv",
            min_interval=fast,
            title="Demo Screening List",  # a few real Entity List names, in the CSL's shape
        ),
        Source(
            "demo-fr",
            "federal-register",
            f"{base}/api/v1",
            min_interval=fast,
            options={"fetch_text": False, "since": "2025-01-01"},
            # a rule with dates ahead (deadlines) and an Entity List rule (list changes)
            title="Demo Federal Register",
        ),
    ]


def demo_settings(settings: Settings | None = None) -> Settings:
    return replace(settings or Settings(), min_interval=0.0, retries=1, backoff=0.1)
