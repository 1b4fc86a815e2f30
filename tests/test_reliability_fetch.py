"""Nothing lost, nothing hung: `tracker fetch` through the CLI against loopback servers that
misbehave (issue 11). Each test reproduces a defect found by the hostile-conditions sweep."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker.cli import cli

from .helpers import LONG_EN, article_page, rss, serve_news
from .hostile import HostileServer, feed_body


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def config(home: Path, sources: str, settings: str = "") -> None:
    (home / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\nretries = 0\nconnect_timeout = 2\nread_timeout = 2\n"
        + settings
        + "\n"
        + sources,
        encoding="utf-8",
    )


def source(name: str, url: str, **options: object) -> str:
    extra = "".join(
        f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v)}\n" for k, v in options.items()
    )
    return f'[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{url}"\n{extra}\n'


def rows(home: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(home / "tracker.db") as conn:
        return conn.execute(sql, args).fetchall()


# ---------------------------------------------------------------- 1. full text kept
def serve_articles(httpserver: HTTPServer, n: int, pages_status: list[int]) -> None:
    """A feed of ``n`` items on the server and their article pages (status from ``pages_status``)."""
    items = [
        {
            "title": f"Commerce adds firm {i} to the Entity List",
            "link": httpserver.url_for(f"/a/{i}"),
            "description": f"Short summary {i}.",
        }
        for i in range(n)
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )

    def page(request: Request) -> Response:
        if pages_status[0] != 200:
            return Response("busy", status=pages_status[0])
        i = request.path.rsplit("/", 1)[1]
        html = article_page(f"Commerce adds firm {i} to the Entity List", [*LONG_EN, f"Firm {i}."])
        return Response(html, content_type="text/html; charset=utf-8")

    for i in range(n):
        httpserver.expect_request(f"/a/{i}").respond_with_handler(page)


def test_a_summary_only_source_never_replaces_extracted_text(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    status = [200]
    serve_articles(httpserver, 6, status)
    feed = httpserver.url_for("/feed.xml")
    config(
        tmp_path,
        source("full", feed, fetch_articles=True) + source("summaries", feed + "?copy=1"),
    )
    assert invoke("fetch", "--source", "full").exit_code == 0
    before = rows(tmp_path, "SELECT id, text, extracted FROM articles ORDER BY id")
    assert len(before) == 6
    assert all(r[2] == 1 and len(str(r[1])) > 200 for r in before)

    # The same links from a feed-only source, then a refetch while every page answers 503.
    assert invoke("fetch", "--source", "summaries").exit_code == 0
    status[0] = 503
    result = invoke("fetch", "--source", "full", "--all")
    assert "6 pages failed" in result.output
    after = rows(tmp_path, "SELECT id, text, extracted FROM articles ORDER BY id")
    assert after == before
    # Both sources are recorded as carrying each article.
    assert rows(tmp_path, "SELECT count(DISTINCT source) FROM article_sources") == [(2,)]


def test_articles_stored_from_summaries_get_their_pages_on_the_next_full_fetch(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_articles(httpserver, 4, [200])
    feed = httpserver.url_for("/feed.xml")
    config(
        tmp_path, source("summaries", feed + "?copy=1") + source("full", feed, fetch_articles=True)
    )
    assert invoke("fetch", "--source", "summaries").exit_code == 0
    assert rows(tmp_path, "SELECT sum(extracted) FROM articles") == [(0,)]
    assert invoke("fetch", "--source", "full").exit_code == 0
    assert rows(tmp_path, "SELECT sum(extracted), min(length(text)) FROM articles")[0][0] == 4


# ---------------------------------------------------------------- 4. a slow server
def test_a_trickling_server_fails_alone_at_the_deadline_and_backs_off(
    tmp_path: Path, httpserver: HTTPServer, hostile: HostileServer
) -> None:
    # One byte every 0.2 s: a read timeout of 2 s never fires; the body would take ~60 s.
    httpserver.expect_request("/good.xml").respond_with_data(
        feed_body(3, "good"), content_type="application/rss+xml"
    )
    config(
        tmp_path,
        source("slow", hostile.url("/trickle/20"))
        + source("good", httpserver.url_for("/good.xml")),
        settings="request_deadline = 3\n",
    )
    result = invoke("fetch")
    assert result.exit_code == 1
    assert "too slow" in result.output
    assert "slow" in result.stderr
    assert rows(tmp_path, "SELECT count(*) FROM articles WHERE source = 'good'") == [(3,)]
    state = rows(tmp_path, "SELECT next_attempt_at, last_error FROM source_state WHERE name='slow'")
    assert state[0][0] is not None
    assert "request_deadline" in str(state[0][1])


def test_a_silent_server_fails_at_the_read_timeout(tmp_path: Path, hostile: HostileServer) -> None:
    config(tmp_path, source("silent", hostile.url("/silent")))
    result = invoke("fetch")
    assert result.exit_code == 1
    assert "timed out" in result.output


@pytest.mark.parametrize(
    ("path", "reason"), [("/bomb", "cap"), ("/entities", "")], ids=["gzip-bomb", "entity-bomb"]
)
def test_bombs_fail_or_stay_small(
    tmp_path: Path, hostile: HostileServer, path: str, reason: str
) -> None:
    config(tmp_path, source("bomb", hostile.url(path)))
    result = invoke("fetch")
    if reason:
        assert result.exit_code == 1
        assert reason in result.output
    titles = rows(tmp_path, "SELECT max(length(title)) FROM articles")
    assert (titles[0][0] or 0) < 10_000  # entities are not expanded a billion times


# ---------------------------------------------------------------- 8. one bad link
def test_a_bad_link_is_skipped_and_counted_and_the_good_items_kept(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    items = [
        {"title": "Broken link", "link": "http://[::1/x"},
        {"title": "Script link", "link": "javascript:alert(1)"},
        {"title": "Commerce adds firms to the Entity List", "link": "http://x.test/good1"},
        {"title": "BIS revises licence rules", "link": "http://x.test/good2"},
    ]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )
    config(tmp_path, source("mixed", httpserver.url_for("/feed.xml")))
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    assert "2 items skipped" in result.output
    urls = {r[0] for r in rows(tmp_path, "SELECT url FROM articles")}
    assert urls == {"http://x.test/good1", "http://x.test/good2"}
    assert rows(tmp_path, "SELECT consecutive_failures FROM source_state") == [(0,)]


# ---------------------------------------------------------------- 9. one stray byte
def test_one_stray_byte_does_not_turn_a_chinese_feed_into_mojibake(
    tmp_path: Path, hostile: HostileServer
) -> None:
    feed = rss(
        [
            {
                "title": "英伟达获准向中国出口H20芯片",
                "link": "http://x.test/zh1",
                "description": "美国商务部向英伟达发放许可证。",
            },
            {"title": "实体清单新增企业", "link": "http://x.test/zh2", "description": "商务部。"},
        ]
    ).encode("utf-8")
    at = feed.index("许可证".encode())
    hostile.bodies["zh"] = (feed[:at] + b"\xff" + feed[at:], "application/rss+xml")
    config(tmp_path, source("zh", hostile.url("/bytes/zh")))
    assert invoke("fetch").exit_code == 0
    stored = dict(rows(tmp_path, "SELECT url, title FROM articles"))
    assert stored["http://x.test/zh1"] == "英伟达获准向中国出口H20芯片"
    assert rows(tmp_path, "SELECT lang FROM articles WHERE url = 'http://x.test/zh1'") == [
        ("zh-Hans",)
    ]
    found = invoke("search", "英伟达", "--format", "json")
    assert "http://x.test/zh1" in found.output


def test_a_source_past_its_deadline_keeps_what_it_stored_and_goes_on_next_run(
    tmp_path: Path, threaded_httpserver: HTTPServer
) -> None:
    serve_news(threaded_httpserver, 40, page_delay=0.4)  # 4 page threads: about 4 s in all
    feed = threaded_httpserver.url_for("/feed.xml")
    config(tmp_path, source("slow-pages", feed, fetch_articles=True), "source_deadline = 1\n")
    first = invoke("fetch")
    assert first.exit_code == 0, first.output  # slow is not failed
    assert "items left for the next run" in " ".join(first.output.split())  # wrapped at 80
    stored = rows(tmp_path, "SELECT count(*) FROM articles")[0][0]
    assert 0 < stored < 40
    config(tmp_path, source("slow-pages", feed, fetch_articles=True))
    assert invoke("fetch").exit_code == 0
    assert rows(tmp_path, "SELECT count(*), sum(extracted) FROM articles") == [(40, 40)]
