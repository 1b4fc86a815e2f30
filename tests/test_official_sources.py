"""Federal Register, public inspection and Google News sources against loopback fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker.config.load import parse_config
from tracker.errors import ConfigError
from tracker.ingest.http import Fetcher
from tracker.ingest.pipeline import run_fetch
from tracker.ingest.sources.google_news import google_news_url
from tracker.models import Source
from tracker.store import Store
from tracker.tagging.tagger import Tagger

from .helpers import article_page

DATA = Path(__file__).parent / "data"
NOW = datetime(2025, 12, 10, 12, 0, tzinfo=UTC)


def fixture(httpserver: HTTPServer, name: str) -> str:
    base = httpserver.url_for("").rstrip("/")
    return (DATA / name).read_text(encoding="utf-8").replace("{base}", base)


def serve_federal_register(httpserver: HTTPServer) -> None:
    def documents(request: Request) -> Response:
        page = request.args.get("page", "1")
        body = fixture(httpserver, f"federal_register/documents_page{page}.json")
        return Response(body, content_type="application/json")

    httpserver.expect_request("/api/v1/documents.json").respond_with_handler(documents)
    raw = (DATA / "federal_register/raw_text_2025-23001.txt").read_text(encoding="utf-8")
    httpserver.expect_request(
        "/documents/full_text/text/2025/12/03/2025-23001.txt"
    ).respond_with_data(raw, content_type="text/plain; charset=utf-8")
    httpserver.expect_request(
        "/documents/full_text/text/2025/11/20/2025-22001.txt"
    ).respond_with_data(
        "<html><body><pre>BIS requests comments on advanced computing items.</pre></body></html>",
        content_type="text/html",
    )


def fr_source(httpserver: HTTPServer, **options: object) -> Source:
    return Source(
        "fr-bis", "federal-register", httpserver.url_for("/api/v1"), options=dict(options)
    )


def run(
    store: Store, fetcher: Fetcher, tagger: Tagger, sources: list[Source], now: datetime = NOW, **kw
):
    return run_fetch(store, fetcher, sources, tagger, now=lambda: now, **kw)


def test_federal_register_pages_through_results_and_stores_official_fields(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    serve_federal_register(httpserver)
    report = run(store, fetcher, tagger, [fr_source(httpserver, since="2025-11-01")]).sources[0]
    assert (report.new, report.error) == (3, None)
    assert report.pages_failed == 1  # one raw text is missing: its abstract is kept
    rows = {r["document_number"]: r for r in store.db.query("SELECT * FROM articles")}
    rule = rows["2025-23001"]
    assert rule["title"] == "Additions to the Entity List"
    assert rule["action"] == "Final rule."
    assert rule["doc_type"] == "Rule"
    assert rule["citation"] == "90 FR 55001"
    assert rule["effective_on"] == "2025-12-03"
    assert json.loads(rule["cfr_references"]) == [{"title": 15, "part": 744}]
    assert rule["published_at"] == "2025-12-03T00:00:00+00:00"
    assert "presumption of denial" in rule["text"]  # the full text, from raw_text_url
    assert rule["lang"] == "en"
    assert rows["2025-22950"]["text"].startswith("BIS corrects a final rule")  # the abstract
    assert rows["2025-22001"]["comments_close_on"] == "2026-01-20"
    assert rows["2025-22001"]["text"] == "BIS requests comments on advanced computing items."
    tags = {t["tag_id"] for t in store.db.query("SELECT tag_id FROM article_tags")}
    assert {"policy:entity-list", "agency:bis", "policy:eccn-3a090"} <= tags


def test_federal_register_query_uses_codes_slug_and_a_window(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    serve_federal_register(httpserver)
    run(store, fetcher, tagger, [fr_source(httpserver, since="2025-11-01", per_page=2)])
    first = next(r for r, _ in httpserver.log if r.path == "/api/v1/documents.json")
    query = parse_qs(urlsplit(first.url).query)
    assert query["conditions[agencies][]"] == ["industry-and-security-bureau"]
    assert query["conditions[type][]"] == ["RULE", "PRORULE", "NOTICE", "PRESDOCU"]
    assert query["conditions[publication_date][gte]"] == ["2025-11-01"]
    assert query["per_page"] == ["2"]
    assert "raw_text_url" in query["fields[]"]
    httpserver.clear_log()
    # The next run starts the window at the last success, with a day's overlap.
    later = datetime(2025, 12, 20, tzinfo=UTC)
    report = run(store, fetcher, tagger, [fr_source(httpserver, since="2025-11-01")], now=later)
    again = next(r for r, _ in httpserver.log if r.path == "/api/v1/documents.json")
    assert parse_qs(urlsplit(again.url).query)["conditions[publication_date][gte]"] == [
        "2025-12-09"
    ]
    assert report.sources[0].unchanged == 3
    # Stored full texts are not fetched again; the one that failed (a 500) is tried again.
    retried = {r.path for r, _ in httpserver.log if r.path.endswith(".txt")}
    assert retried == {"/documents/full_text/text/2025/12/02/missing.txt"}


def test_an_empty_window_has_no_results_key_and_is_not_an_error(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/api/v1/documents.json").respond_with_json(
        {"count": 0, "description": "none"}
    )
    report = run(store, fetcher, tagger, [fr_source(httpserver)]).sources[0]
    assert (report.new, report.error) == (0, None)


def test_a_refused_query_is_recorded(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/api/v1/documents.json").respond_with_json(
        {
            "errors": {
                "conditions": {
                    "agencies": ["bureau-of-industry-and-security is not a valid agency"]
                }
            }
        },
        status=400,
    )
    report = run(
        store,
        fetcher,
        tagger,
        [fr_source(httpserver, agencies=["bureau-of-industry-and-security"])],
    )
    assert "400" in (report.sources[0].error or "")


def test_the_10000_cap_is_reported(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/api/v1/documents.json").respond_with_json(
        {"count": 10000, "results": []}
    )
    report = run(store, fetcher, tagger, [fr_source(httpserver)]).sources[0]
    assert "10000" in (report.warning or "")


def test_public_inspection_keeps_only_the_configured_agencies(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/api/v1/public-inspection-documents/current.json").respond_with_data(
        fixture(httpserver, "federal_register/public_inspection.json"),
        content_type="application/json",
    )
    source = Source("fr-pi", "public-inspection", httpserver.url_for("/api/v1"))
    report = run(store, fetcher, tagger, [source]).sources[0]
    assert report.new == 1
    (row,) = store.db.query("SELECT * FROM articles")
    assert row["document_number"] == "2025-23150"
    assert row["action"] == "Public inspection"
    assert "to be published in the Federal Register on 2025-12-09" in row["text"]
    assert row["published_at"] == "2025-12-08T13:45:00+00:00"


def test_google_news_url_for_each_edition() -> None:
    url = google_news_url("https://news.google.com/rss/search", '"entity list" nvidia', "zh-TW")
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "q": ['"entity list" nvidia'],
        "hl": ["zh-TW"],
        "gl": ["TW"],
        "ceid": ["TW:zh-Hant"],
    }


def test_google_news_titles_lose_the_publisher_which_is_stored(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request(
        "/rss/search", query_string={"q": "entity list", "hl": "en-US", "gl": "US", "ceid": "US:en"}
    ).respond_with_data(
        fixture(httpserver, "google_news/en.xml"), content_type="application/rss+xml"
    )
    source = Source(
        "gnews", "google-news", httpserver.url_for("/rss/search"), options={"query": "entity list"}
    )
    assert run(store, fetcher, tagger, [source]).sources[0].new == 2
    rows = {r["title"]: r for r in store.db.query("SELECT * FROM articles")}
    wire = rows["US adds two dozen Chinese chip firms to Entity List"]
    assert wire["publisher"] == "Example Wire"  # from <source>
    assert wire["url"].endswith("/rss/articles/CBMiAbc123?oc=5")  # the Google link is kept
    assert rows["Nvidia - H20 - licences resume"]["publisher"] == "Sample Daily"  # the last " - "


def test_google_news_edition_sets_the_language_and_a_redirect_reveals_the_publisher_url(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/rss/search").respond_with_data(
        fixture(httpserver, "google_news/zh-tw.xml")
    )
    httpserver.expect_request("/rss/articles/CBMiTw789").respond_with_data(
        "", status=302, headers={"Location": "/publisher/2025/12/04/entity-list.html"}
    )
    page = article_page(
        "美國將23家中國企業列入實體清單",
        [
            "美國商務部工業暨安全局在聯邦公報發布最終規則，將23家中國企業列入實體清單，理由是支援先進晶片製造。",
            "出口商今後對這些企業出口物項均須申請許可證，多數申請將被推定拒絕。",
        ],
        lang="zh-TW",
    )
    httpserver.expect_request("/publisher/2025/12/04/entity-list.html").respond_with_data(
        page, content_type="text/html"
    )
    source = Source(
        "gnews-tw",
        "google-news",
        httpserver.url_for("/rss/search"),
        options={"query": "實體清單", "edition": "zh-TW", "fetch_articles": True},
    )
    assert run(store, fetcher, tagger, [source]).sources[0].new == 1
    (row,) = store.db.query("SELECT * FROM articles")
    assert row["lang"] == "zh-Hant"
    assert row["publisher"] == "示範日報"
    assert row["publisher_url"].endswith("/publisher/2025/12/04/entity-list.html")
    assert row["extracted"] == 1


def test_config_gives_the_new_kinds_default_urls_and_refuses_display_names() -> None:
    config = parse_config(
        {
            "sources": [
                {"name": "fr", "kind": "federal-register"},
                {"name": "g", "kind": "google-news", "query": "出口管制", "edition": "zh-CN"},
            ]
        }
    )
    assert config.sources[0].url == "https://www.federalregister.gov/api/v1"
    assert config.sources[1].url == "https://news.google.com/rss/search"
    with pytest.raises(ConfigError, match="codes, not the display names"):
        parse_config(
            {"sources": [{"name": "fr", "kind": "federal-register", "types": ["Proposed Rule"]}]}
        )
    with pytest.raises(ConfigError, match="needs 'query'"):
        parse_config({"sources": [{"name": "g", "kind": "google-news"}]})
    with pytest.raises(ConfigError, match="edition"):
        parse_config(
            {"sources": [{"name": "g", "kind": "google-news", "query": "x", "edition": "fr-FR"}]}
        )
