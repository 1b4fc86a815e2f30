"""Whole runs over a loopback server: good sources ingest, bad ones are recorded, nothing is lost."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker.config.load import Settings
from tracker.ingest.http import Fetcher, make_session
from tracker.ingest.pipeline import run_fetch
from tracker.models import Source
from tracker.store import Store
from tracker.tagging.tagger import Tagger

from .helpers import LONG_EN, article_page, rss

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def run(store: Store, fetcher: Fetcher, tagger: Tagger, sources: list[Source], **kw):
    return run_fetch(store, fetcher, sources, tagger, now=lambda: NOW, **kw)


def good_feed(httpserver: HTTPServer, path: str = "/good.xml", n: int = 2) -> Source:
    items = [
        {
            "title": f"Entity List rule {i}",
            "link": httpserver.url_for(f"/a/{i}"),
            "description": f"BIS added firm {i} to the Entity List.",
            "date": "2025-12-03T14:00:00+00:00",
        }
        for i in range(n)
    ]
    httpserver.expect_request(path).respond_with_data(
        rss(items), content_type="application/rss+xml", headers={"ETag": '"g1"'}
    )
    return Source("good", "rss", httpserver.url_for(path))


def log_rows(store: Store, source: str) -> list[dict]:
    return list(store.db.query("SELECT * FROM fetch_log WHERE source = ? ORDER BY id", [source]))


BAD = {
    "server-error": lambda: Response("oops", status=500),
    "not-found": lambda: Response("", status=404),
    "gone": lambda: Response("", status=410),
    "html": lambda: Response(
        "<!DOCTYPE html><html><body>Welcome!</body></html>", content_type="text/html"
    ),
    "empty": lambda: Response("", content_type="application/rss+xml"),
    "garbage": lambda: Response(bytes(range(256)) * 50, content_type="application/rss+xml"),
    "too-big": lambda: Response(b"<rss>" + b"x" * 300_000, content_type="application/rss+xml"),
}
REASONS = {
    "server-error": "500",
    "not-found": "404",
    "gone": "410 Gone",
    "html": "HTML page",
    "empty": "empty body",
    "garbage": "feed",
    "too-big": "cap",
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_broken_source_is_recorded_and_the_others_still_ingest(
    httpserver: HTTPServer, store: Store, tagger: Tagger, settings: Settings, kind: str
) -> None:
    fetcher = Fetcher(make_session(settings), replace(settings, max_body_mb=0.25, retries=0))
    httpserver.expect_request("/bad").respond_with_handler(lambda _req: BAD[kind]())
    sources = [Source("broken", "rss", httpserver.url_for("/bad")), good_feed(httpserver)]
    report = run(store, fetcher, tagger, sources)
    broken, good = report.sources
    assert REASONS[kind] in (broken.error or "")
    assert good.error is None
    assert good.new == 2
    assert store.count() == 2
    (row,) = log_rows(store, "broken")
    assert REASONS[kind] in row["error"]
    assert [f.name for f in report.failures] == ["broken"]


def test_timeout_and_redirect_loop_are_recorded(
    threaded_httpserver: HTTPServer, store: Store, tagger: Tagger, settings: Settings
) -> None:
    httpserver = threaded_httpserver
    fetcher = Fetcher(make_session(settings), replace(settings, read_timeout=0.3, retries=0))

    def slow(_: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    sources = [
        Source("slow", "rss", httpserver.url_for("/slow")),
        Source("loop", "rss", httpserver.url_for("/loop")),
        good_feed(httpserver),
    ]
    report = run(store, fetcher, tagger, sources)
    assert "timed out" in report.sources[0].error
    assert "redirect loop" in report.sources[1].error
    assert report.sources[2].new == 2
    assert "timed out" in log_rows(store, "slow")[0]["error"]


def test_feed_only_articles_are_tagged_and_searchable(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    run(store, fetcher, tagger, [good_feed(httpserver)])
    row = next(iter(store.db.query("SELECT * FROM articles ORDER BY title LIMIT 1")))
    assert row["text"] == "BIS added firm 0 to the Entity List."
    assert row["extracted"] == 0
    assert row["published_at"] == "2025-12-03T14:00:00+00:00"
    tags = {t["slug"] for t in store.article(row["id"])["tags"]}  # type: ignore[index]
    assert {"entity-list", "bis"} <= tags


def test_second_run_is_a_conditional_get_and_stores_nothing_twice(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    source = good_feed(httpserver, "/cond.xml")
    httpserver.clear()
    body = rss(
        [{"title": "Rule", "link": "http://x.test/r", "description": "Entity List rule text."}]
    )
    httpserver.expect_request("/cond.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/cond.xml").respond_with_data(body, headers={"ETag": '"v1"'})
    first = run(store, fetcher, tagger, [source])
    second = run(store, fetcher, tagger, [source])
    assert first.sources[0].new == 1
    assert second.sources[0].not_modified
    assert store.count() == 1
    statuses = [r["status"] for r in log_rows(store, "good")]
    assert statuses == [200, 304]


def test_full_text_from_pages_and_known_pages_are_not_fetched_again(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/f.xml").respond_with_data(
        rss(
            [
                {
                    "title": "Feed title",
                    "link": httpserver.url_for("/p/1"),
                    "description": "short summary",
                    "date": "2025-08-12T09:30:00+00:00",
                }
            ]
        )
    )
    httpserver.expect_request("/p/1").respond_with_data(
        article_page("Entity List grows", LONG_EN), content_type="text/html; charset=utf-8"
    )
    source = Source("full", "rss", httpserver.url_for("/f.xml"), options={"fetch_articles": True})
    run(store, fetcher, tagger, [source])
    row = next(iter(store.db.query("SELECT * FROM articles")))
    assert row["title"] == "Entity List grows"
    assert row["text"].startswith("The Bureau of Industry and Security added")
    assert "Samsung" not in row["text"]
    assert "Micron" not in row["text"]
    assert row["summary"] == "short summary"
    assert row["extracted"] == 1
    assert row["published_at"] == "2025-08-12T09:30:00+00:00"  # the page's day, the feed's time
    report = run(store, fetcher, tagger, [source])
    assert report.sources[0].unchanged == 1
    assert sum(req.path == "/p/1" for req, _ in httpserver.log) == 1
    run(store, fetcher, tagger, [source], refetch=True)
    assert sum(req.path == "/p/1" for req, _ in httpserver.log) == 2


def test_a_failed_or_empty_page_keeps_the_feed_summary_and_is_counted(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/f.xml").respond_with_data(
        rss(
            [
                {
                    "title": "Missing page",
                    "link": httpserver.url_for("/p/404"),
                    "description": "Nvidia summary one.",
                },
                {
                    "title": "Script page",
                    "link": httpserver.url_for("/p/js"),
                    "description": "Nvidia summary two.",
                },
            ]
        )
    )
    httpserver.expect_request("/p/404").respond_with_data("", status=404)
    httpserver.expect_request("/p/js").respond_with_data(
        "<html><body><div id=app></div><script>render()</script></body></html>",
        content_type="text/html",
    )
    source = Source(
        "partial", "rss", httpserver.url_for("/f.xml"), options={"fetch_articles": True}
    )
    report = run(store, fetcher, tagger, [source]).sources[0]
    assert (report.new, report.pages_failed, report.no_text, report.error) == (2, 1, 1, None)
    texts = sorted(r["text"] for r in store.db.query("SELECT text FROM articles"))
    assert texts == ["Nvidia summary one.", "Nvidia summary two."]
    errors = [r["error"] for r in log_rows(store, "partial") if r["kind"] == "page"]
    assert any("404" in (e or "") for e in errors)
    assert any("no main text" in (e or "") for e in errors)


def test_bozo_feed_entries_are_kept_with_a_warning(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    feed = rss([{"title": "Rule one", "link": "http://x.test/1", "description": "text"}])
    httpserver.expect_request("/bozo.xml").respond_with_data(feed.replace("Rule one", "Rule & one"))
    report = run(store, fetcher, tagger, [Source("bozo", "rss", httpserver.url_for("/bozo.xml"))])
    assert report.sources[0].new == 1
    assert report.sources[0].warning
    assert not report.failures


def test_listing_page_source_fetches_linked_articles(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/news/").respond_with_data(
        '<nav><a href="/about">About</a></nav><ul class="list"><li><a href="/p/a">A</a></li></ul>',
        content_type="text/html",
    )
    httpserver.expect_request("/p/a").respond_with_data(
        article_page("Rule A", LONG_EN), content_type="text/html"
    )
    source = Source(
        "bis", "page", httpserver.url_for("/news/"), options={"link_selector": "ul.list a"}
    )
    report = run(store, fetcher, tagger, [source])
    assert report.sources[0].new == 1
    assert [r["title"] for r in store.db.query("SELECT title FROM articles")] == ["Rule A"]


def test_chinese_pages_in_legacy_encodings_are_stored_as_text(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    gbk = article_page(
        "美国将23家中国企业列入实体清单",
        [
            "美国商务部工业和安全局在联邦公报发布最终规则，将二十三家中国企业列入实体清单，理由是支持先进芯片制造。",
            "出口商今后向这些企业出口物项均需申请许可证，大多数申请将被推定拒绝。",
        ],
        lang="zh-CN",
    ).replace('charset="utf-8"', 'charset="gb2312"')
    big5 = article_page(
        "輝達H20晶片恢復出口",
        [
            "據知情官員透露，美國商務部已開始向輝達核發許可證，允許其向中國客戶出口H20晶片。",
            "根據安排，輝達需將這部分許可銷售收入的百分之十五繳交美國政府。",
        ],
        lang="zh-TW",
    ).replace('charset="utf-8"', 'charset="big5"')
    httpserver.expect_request("/zh.xml").respond_with_data(
        rss(
            [
                {"title": "gbk", "link": httpserver.url_for("/p/gbk")},
                {"title": "big5", "link": httpserver.url_for("/p/big5")},
            ]
        )
    )
    httpserver.expect_request("/p/gbk").respond_with_data(
        gbk.encode("gb18030"), content_type="text/html; charset=gbk"
    )
    httpserver.expect_request("/p/big5").respond_with_data(
        big5.encode("big5"), content_type="text/html"
    )
    source = Source("zh", "rss", httpserver.url_for("/zh.xml"), options={"fetch_articles": True})
    run(store, fetcher, tagger, [source])
    rows = {r["title"]: r for r in store.db.query("SELECT * FROM articles")}
    assert rows["美国将23家中国企业列入实体清单"]["lang"] == "zh-Hans"
    assert rows["輝達H20晶片恢復出口"]["lang"] == "zh-Hant"
    assert "輝達核發許可證" in rows["輝達H20晶片恢復出口"]["text"]
    tags = {t["tag_id"] for t in store.db.query("SELECT tag_id FROM article_tags")}
    assert {"policy:entity-list", "company:nvidia", "chip:h20"} <= tags


def test_disabled_sources_are_skipped(
    httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    source = replace(good_feed(httpserver), enabled=False)
    assert run(store, fetcher, tagger, [source]).sources == []
    assert httpserver.log == []


def test_extraction_in_worker_processes_gives_the_same_articles(
    httpserver: HTTPServer,
    store: Store,
    tagger: Tagger,
    fetcher: Fetcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tracker.ingest.pool.EXTRACTION_POOL_MIN", 2)
    httpserver.expect_request("/f.xml").respond_with_data(
        rss([{"title": f"t{i}", "link": httpserver.url_for(f"/p/{i}")} for i in range(3)])
    )
    for i in range(2):
        page = article_page(f"Rule {i}", LONG_EN)
        httpserver.expect_request(f"/p/{i}").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/p/2").respond_with_data(
        bytes(range(256)) * 40, content_type="text/html"
    )
    source = Source("pooled", "rss", httpserver.url_for("/f.xml"), options={"fetch_articles": True})
    report = run(store, fetcher, tagger, [source], extract_workers=2).sources[0]
    assert (report.new, report.pages_failed) == (3, 1)
    rows = {r["title"]: r for r in store.db.query("SELECT * FROM articles")}
    assert rows["Rule 0"]["extracted"] == 1
    assert rows["Rule 1"]["text"].startswith("The Bureau of Industry and Security")
    errors = [r["error"] for r in log_rows(store, "pooled") if r["error"]]
    assert any("undecodable" in e for e in errors)  # the worker's ParseError came back whole


def test_parallel_page_fetches_read_robots_txt_once(
    threaded_httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    server = threaded_httpserver
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /private/\n")
    server.expect_request("/f.xml").respond_with_data(
        rss(
            [
                {"title": f"t{i}", "link": server.url_for(f"/p/{i}"), "description": "Nvidia."}
                for i in range(8)
            ]
            + [
                {
                    "title": "secret",
                    "link": server.url_for("/private/x"),
                    "description": "Kept summary.",
                }
            ]
        )
    )
    for i in range(8):
        server.expect_request(f"/p/{i}").respond_with_data(
            article_page(f"R{i}", LONG_EN), content_type="text/html"
        )
    source = Source("many", "rss", server.url_for("/f.xml"), options={"fetch_articles": True})
    report = run(store, fetcher, tagger, [source], workers=4).sources[0]
    assert report.new == 9
    assert report.pages_failed == 1  # the disallowed page: its feed summary is kept
    paths = [req.path for req, _ in server.log]
    assert paths.count("/robots.txt") == 1
    assert "/private/x" not in paths


def test_sources_are_fetched_side_by_side(
    threaded_httpserver: HTTPServer, store: Store, tagger: Tagger, fetcher: Fetcher
) -> None:
    import threading

    server = threaded_httpserver
    b_arrived = threading.Event()

    def feed_a(_: Request) -> Response:
        # Answers only once B's request is in flight: run one after the other, this would fail.
        if not b_arrived.wait(timeout=5):
            return Response("A was fetched alone", status=500)
        return Response(
            rss([{"title": "a", "link": "http://x.test/a"}]), content_type="application/rss+xml"
        )

    def feed_b(_: Request) -> Response:
        b_arrived.set()
        return Response(
            rss([{"title": "b", "link": "http://x.test/b"}]), content_type="application/rss+xml"
        )

    server.expect_request("/a.xml").respond_with_handler(feed_a)
    other_host = server.url_for("/b.xml").replace("localhost", "127.0.0.1")
    server.expect_request("/b.xml").respond_with_handler(feed_b)
    sources = [Source("a", "rss", server.url_for("/a.xml")), Source("b", "rss", other_host)]
    report = run(store, fetcher, tagger, sources)
    assert [s.name for s in report.sources] == ["a", "b"]  # the configured order
    assert [s.error for s in report.sources] == [None, None]
    assert store.count() == 2


def test_sources_on_one_host_still_share_its_interval(
    httpserver: HTTPServer, store: Store, tagger: Tagger, settings: Settings, sleeps
) -> None:
    fetcher = Fetcher(
        make_session(settings),
        replace(settings, min_interval=3.0, obey_robots=False),
        clock=sleeps.clock,
        sleep=sleeps.sleep,
    )
    for name in ("one", "two"):
        httpserver.expect_request(f"/{name}.xml").respond_with_data(
            rss([{"title": name, "link": f"http://x.test/{name}"}])
        )
    sources = [Source(n, "rss", httpserver.url_for(f"/{n}.xml")) for n in ("one", "two")]
    run(store, fetcher, tagger, sources)
    assert sleeps.waits == [3.0]  # the second request to the host waited its interval


def test_a_failed_story_placement_loses_nothing_and_the_next_run_places(
    httpserver: HTTPServer,
    store: Store,
    tagger: Tagger,
    fetcher: Fetcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    import tracker.ingest.pipeline

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(tracker.ingest.pipeline, "place_pending", broken)
        report = run(store, fetcher, tagger, [good_feed(httpserver)])
    assert report.failures == []  # the fetch itself succeeded
    assert store.count() == 2
    pending = "SELECT count(*) FROM articles WHERE story_id IS NULL"
    assert store.db.conn.execute(pending).fetchone()[0] == 2
    run(store, fetcher, tagger, [good_feed(httpserver)])  # nothing new to fetch; places them
    assert store.db.conn.execute(pending).fetchone()[0] == 0
