"""`tracker serve`: the web reader, tested over real HTTP on loopback against a demo store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import requests
from click.testing import CliRunner

from tests.reader_store import RULE_NUMBER, RULE_TITLE, build_reader_store, free_port, serving
from tracker.cli import cli
from tracker.cli.servecmds import is_loopback
from tracker.store import Store
from tracker.tagging.tagger import Tagger
from tracker.web.common import MAX_QUERY


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, tagger: Tagger) -> Path:
    return build_reader_store(tmp_path_factory.mktemp("serve") / "demo.db", tagger)


@pytest.fixture(scope="module")
def base(demo_db: Path, tagger: Tagger) -> Iterator[str]:
    with serving(demo_db, tagger) as url:
        yield url


def get(base: str, path: str, **params: Any) -> requests.Response:
    return requests.get(base + path, params=params, timeout=10)


def test_a_chinese_search_finds_the_stories_in_both_languages(base: str) -> None:
    page = get(base, "/search", q="英伟达")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert page.text.count('<a class="title"') >= 2
    assert 'lang="zh"' in page.text
    assert 'lang="en"' in page.text


def test_json_and_atom_are_the_same_search_at_the_same_url(base: str) -> None:
    rows = get(base, "/search", q="Entity List", format="json").json()
    assert rows
    assert all("Entity List" in r["title"] or r["tags"] for r in rows)
    feed = feedparser.parse(get(base, "/search", q="Entity List", format="atom").content)
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [r["title"] for r in rows]


def test_an_article_page_shows_text_tags_and_its_story(base: str) -> None:
    rows = get(base, "/search", q="Entity List", format="json").json()
    with_story = next(r for r in rows if r["story_size"] > 1)
    page = get(base, f"/article/{with_story['id']}")
    assert page.status_code == 200
    assert "In this story" in page.text
    assert "/search?tag=" in page.text  # tags are links


def test_stored_markup_is_shown_as_text_and_no_inline_script_may_run(base: str) -> None:
    rows = get(base, "/search", q="H20", format="json").json()
    hostile = next(r for r in rows if r["source"] == "hostile")
    for page in (get(base, "/search", q="H20"), get(base, f"/article/{hostile['id']}")):
        assert page.status_code == 200
        assert "<script>" not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("x" * 100_000, f"keep it under {MAX_QUERY:,}"),
        ("nvidia\x00h20", "control characters"),
    ],
)
def test_hostile_queries_get_a_400_page_with_the_reason(base: str, query: str, says: str) -> None:
    page = get(base, "/search", q=query)
    assert page.status_code == 400
    assert says in page.text


@pytest.mark.parametrize(
    "query",
    ['NEAR("a"', '"unbalanced', "*", "' OR 1=1; DROP TABLE articles;--", "title:", "AND OR NOT"],
)
def test_query_syntax_and_sql_looking_text_never_make_a_500(base: str, query: str) -> None:
    page = get(base, "/search", q=query)
    assert page.status_code in (200, 400), page.text[:300]
    assert get(base, "/search", q="Entity List", format="json").json()  # the store is intact


def test_static_files_refuse_paths_outside_their_folder(base: str) -> None:
    assert get(base, "/static/reader.css").status_code == 200
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2f..%2fpyproject.toml"):
        page = requests.get(base + path, timeout=10)
        assert page.status_code == 404, path
        assert "create_app" not in page.text


def test_unknown_and_malformed_article_ids(base: str) -> None:
    assert get(base, "/article/ffffffffffff").status_code == 404
    assert get(base, "/article/..%2f..%2fetc").status_code in (400, 404)
    assert get(base, "/article/xyz!").status_code == 400


def test_pages_keep_answering_while_a_fetch_holds_the_write_lock(base: str, demo_db: Path) -> None:
    stop = threading.Event()

    def writer() -> None:
        store = Store.open(demo_db)
        while not stop.is_set():
            with store.transaction():  # BEGIN IMMEDIATE: what a fetch holds while saving
                store.db.execute("UPDATE articles SET relevance = relevance WHERE rowid = 1")
                time.sleep(0.3)
        store.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        codes = [get(base, "/search", q="Nvidia").status_code for _ in range(15)]
    finally:
        stop.set()
        thread.join(10)
    assert codes == [200] * 15


def test_loopback_is_told_apart_from_other_addresses() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5")
    assert not is_loopback("example.org")


def test_the_command_prints_its_url_and_stops_cleanly_on_ctrl_c(demo_db: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", str(demo_db), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 15
        while True:
            try:
                page = requests.get(f"http://127.0.0.1:{port}/search?q=H20", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "never answered"
                time.sleep(0.1)
        assert page.status_code == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        assert "Stopped." in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_taken_port_fails_in_one_line(demo_db: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["--db", str(demo_db), "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert "pick another --port" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_stories_of_the_day_fold_copies_and_pick_the_readers_language(base: str) -> None:
    english = get(base, "/stories", since="30d", format="json").json()
    joined = next(s for s in english if "zh" in " ".join(s["languages"]) and s["size"] > 1)
    assert joined["shown"]["id"] == joined["lead_id"]
    chinese = get(base, "/stories", since="30d", lang="zh", format="json").json()
    same = next(s for s in chinese if s["id"] == joined["id"])
    assert same["shown"]["lang"].startswith("zh")
    page = get(base, "/stories", since="30d", lang="zh")
    assert same["shown"]["title"] in page.text
    assert f"All {joined['size']} copies" in page.text


def test_the_entity_page_shows_its_list_entry_history_and_news(base: str) -> None:
    for name in ("smic", "中芯国际", "Semiconductor Manufacturing International Corporation"):
        data = get(base, f"/entity/{name}", format="json").json()
        assert [e["id"] for e in data["entities"]][:1] == ["smic"], name
    page = get(base, "/entity/中芯国际")
    assert "Entity List (EL)" in page.text
    assert "85 FR 83420" in page.text  # its citation
    assert "revised" in page.text  # the change recorded on it
    assert get(base, "/entity/x").status_code == 400  # too short to match a name
    form = get(base, "/entity", name="中芯國際")  # the lists page's look-up form
    assert form.url.endswith("/entity/%E4%B8%AD%E8%8A%AF%E5%9C%8B%E9%9A%9B")
    assert "Entity List (EL)" in form.text
    assert get(base, "/entity", name="").status_code == 400


def test_list_changes_link_the_entity_and_the_rule(base: str) -> None:
    rows = get(base, "/lists", since="7d", format="json").json()
    assert sorted((r["event"], r["entity"]) for r in rows) == [
        ("added", "cambricon"),  # the demo's Entity List rule, read the day it is published
        ("revised", "smic"),
    ]
    added = next(r for r in rows if r["event"] == "added")
    assert added["document"] == "2026-99002"
    assert added["document_article"]  # the rule is stored as an article too
    page = get(base, "/lists")
    assert 'href="/entity/smic"' in page.text
    assert f'href="/article/{added["document_article"]}"' in page.text
    assert "Entity List (EL)" in page.text  # the lists kept, with counts


def test_deadlines_come_upcoming_first_and_as_a_calendar(base: str) -> None:
    import icalendar

    rows = get(base, "/deadlines", format="json").json()
    assert [(r["kind"], r["document"]) for r in rows] == [
        ("effective", RULE_NUMBER),
        ("comments-close", RULE_NUMBER),
    ]
    first, last = (date.fromisoformat(r["date"]) for r in rows)
    assert datetime.now(UTC).date() < first < last
    page = get(base, "/deadlines")
    assert page.text.index(rows[0]["date"]) < page.text.index(rows[1]["date"])
    ics = get(base, "/deadlines", format="ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [first, last]
    assert get(base, "/deadlines", until="soon").status_code == 400


def test_trends_draw_an_svg_chart_with_its_numbers_beside_it(base: str) -> None:
    page = get(base, "/trends", tag=["company:nvidia", "company:smic"], since="30d")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert page.text.count("<polyline") == 2
    data = get(base, "/trends", tag=["company:nvidia"], since="30d", format="json").json()
    total = sum(p["count"] for p in data["company:nvidia"])
    assert total > 0
    assert f"company:nvidia) · {total}" in page.text  # the legend's total is the series'
    chosen = get(base, "/trends", since="30d")  # no tag: the most tagged are charted
    assert chosen.text.count("<polyline") >= 1
    assert get(base, "/trends", tag=["x"] * 8).status_code == 400
    misspelt = get(base, "/trends", tag=["company:nvidai"])
    assert misspelt.status_code == 400
    assert "unknown tag &#39;company:nvidai&#39;" in misspelt.text  # escaped, as all text is


def test_the_digest_page_is_the_mail_with_no_script_allowed(base: str) -> None:
    page = get(base, "/digest")
    assert page.status_code == 200
    assert "<table" in page.text  # the mailed HTML, inline styles and all
    policy = page.headers["content-security-policy"]
    assert "script-src" not in policy
    assert policy.startswith("default-src 'none'")  # so no script may run
    data = get(base, "/digest", format="json").json()
    lead = data["today"][0]["title"]
    assert lead in data["subject"]
    assert lead in page.text
    text = get(base, "/digest", format="text")
    assert text.headers["content-type"].startswith("text/plain")
    assert lead in text.text
    assert RULE_TITLE in text.text  # coming up: the rule's date


@pytest.mark.parametrize(
    "path", ["/", "/stories", "/lists", "/deadlines", "/trends", "/digest", "/entity/smic"]
)
def test_every_page_answers_json_at_its_own_url(base: str, path: str) -> None:
    page = get(base, path, format="json")
    assert page.status_code == 200
    assert page.headers["content-type"] == "application/json"
    assert page.json() is not None
    bad = get(base, path, format="pdf")
    assert bad.status_code == 400
    assert "unknown format" in bad.text


def test_the_chart_scale_holds_the_largest_count_and_labels_fit() -> None:
    from tracker.web.chart import line_chart

    chart = line_chart({"a": [("2026-12-01", 0), ("2026-12-02", 7), ("2026-12-03", 3)]})
    assert [v for _, v in chart.y_ticks] == [0, 2, 4, 6, 8]
    top = min(float(pt.split(",")[1]) for pt in chart.lines[0].points.split())
    assert top > chart.y_ticks[-1][0]  # 7 is drawn below the 8 line, inside the chart
    assert [a for _, _, a in chart.x_ticks] == ["start", "middle", "end"]
