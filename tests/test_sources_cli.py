"""The `tracker sources` commands, on a real tracker.toml, database and loopback server."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tracker.cli import cli
from tracker.config.load import load_config
from tracker.config.opml import parse_opml

from .helpers import rss


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def config_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.toml"  # TRACKER_HOME is tmp_path


def start(tmp_path: Path) -> None:
    config_path(tmp_path).write_text(
        "# my sources, hand-written\n[settings]\nmin_interval = 0  # loopback\nretries = 0\n",
        encoding="utf-8",
    )


def test_add_writes_the_source_and_keeps_comments(tmp_path: Path, httpserver: HTTPServer) -> None:
    start(tmp_path)
    result = invoke(
        "sources", "add", "wire", httpserver.url_for("/f.xml"), "--lang", "en", "--fetch-articles"
    )
    assert result.exit_code == 0, result.output
    text = config_path(tmp_path).read_text()
    assert "# my sources, hand-written" in text
    assert "min_interval = 0  # loopback" in text
    (source,) = load_config(config_path(tmp_path)).sources
    assert (source.name, source.kind, source.lang, source.options) == (
        "wire",
        "rss",
        "en",
        {"fetch_articles": True},
    )


def test_add_kinds_with_default_urls(tmp_path: Path) -> None:
    start(tmp_path)
    assert invoke("sources", "add", "fr", "--kind", "federal-register").exit_code == 0
    assert (
        invoke(
            "sources",
            "add",
            "gtw",
            "--kind",
            "google-news",
            "--query",
            "實體清單",
            "--edition",
            "zh-TW",
        ).exit_code
        == 0
    )
    sources = {s.name: s for s in load_config(config_path(tmp_path)).sources}
    assert sources["fr"].url == "https://www.federalregister.gov/api/v1"
    assert sources["gtw"].options == {"query": "實體清單", "edition": "zh-TW"}


def test_a_refused_add_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    start(tmp_path)
    before = config_path(tmp_path).read_text()
    missing = invoke("sources", "add", "bis", "https://www.bis.gov/news-updates", "--kind", "page")
    assert missing.exit_code == 2
    assert "--selector" in missing.stderr
    assert invoke("sources", "add", "x", "https://a.test/f", "--no-check").exit_code == 0
    taken = invoke("sources", "add", "x", "https://b.test/f", "--no-check")
    assert taken.exit_code == 2
    assert "already exists" in taken.stderr
    assert config_path(tmp_path).read_text() != before  # only the good add landed
    assert len(load_config(config_path(tmp_path)).sources) == 1


def test_remove_enable_disable(tmp_path: Path) -> None:
    start(tmp_path)
    invoke("sources", "add", "x", "https://a.test/f", "--no-check")
    assert invoke("sources", "disable", "x").exit_code == 0
    assert load_config(config_path(tmp_path)).sources[0].enabled is False
    assert invoke("sources", "enable", "x").exit_code == 0
    assert load_config(config_path(tmp_path)).sources[0].enabled is True
    assert invoke("sources", "remove", "x").exit_code == 0
    assert load_config(config_path(tmp_path)).sources == ()
    gone = invoke("sources", "remove", "x")
    assert gone.exit_code == 2
    assert "no source named 'x'" in gone.stderr


def test_test_shows_what_would_be_stored_and_writes_nothing(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    start(tmp_path)
    httpserver.expect_request("/f.xml").respond_with_data(
        rss(
            [
                {
                    "title": "Commerce adds firms to the Entity List",
                    "link": "http://x.test/1",
                    "description": "BIS rule.",
                }
            ]
        )
    )
    invoke("sources", "add", "wire", httpserver.url_for("/f.xml"))
    result = invoke("sources", "test", "wire", "-f", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["title"] == "Commerce adds firms to the Entity List"
    assert {"kind": "policy", "slug": "entity-list"}.items() <= next(
        t for t in row["tags"] if t["slug"] == "entity-list"
    ).items()  # one tag shape everywhere
    assert not (tmp_path / "tracker.db").exists()


def test_test_exits_1_when_the_source_fails(tmp_path: Path, httpserver: HTTPServer) -> None:
    start(tmp_path)
    httpserver.expect_request("/f.xml").respond_with_data("", status=404)
    invoke("sources", "add", "wire", httpserver.url_for("/f.xml"))
    result = invoke("sources", "test", "wire")
    assert result.exit_code == 1
    assert "404" in result.stderr


def test_status_shows_health_and_fetch_skips_a_source_backing_off(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    start(tmp_path)
    httpserver.expect_request("/good.xml").respond_with_data(
        rss([{"title": "t", "link": "http://x.test/1"}])
    )
    httpserver.expect_request("/bad.xml").respond_with_data("", status=503)
    httpserver.expect_request("/gone.xml").respond_with_data("", status=410)
    for name in ("good", "bad", "gone"):
        invoke("sources", "add", name, httpserver.url_for(f"/{name}.xml"))
    invoke("sources", "add", "later", "https://a.test/f", "--no-check", "--disabled")
    assert invoke("fetch").exit_code == 1
    rows = {r["name"]: r for r in json.loads(invoke("sources", "status", "-f", "json").stdout)}
    assert rows["good"]["state"] == "ok"
    assert rows["good"]["new_7d"] == 1
    assert rows["good"]["median_ms"] is not None
    assert rows["bad"]["state"] == "backing off"
    assert rows["bad"]["failures"] == 1
    assert "503" in rows["bad"]["last_error"]
    assert rows["gone"]["state"] == "disabled (410 Gone)"
    assert "sources enable" in rows["gone"]["last_error"]
    assert rows["later"]["state"] == "disabled in config"
    again = invoke("fetch")
    assert "skipped: backing off" in again.stderr
    assert "skipped: disabled" in again.stderr
    forced = invoke("fetch", "--source", "bad")
    assert "skipped" not in forced.stderr
    invoke("sources", "enable", "gone")
    rows = {r["name"]: r for r in json.loads(invoke("sources", "status", "-f", "json").stdout)}
    assert rows["gone"]["state"] == "failing"  # enabled again: tried on the next fetch


OPML = b"""<?xml version="1.0"?>
<opml version="1.0"><head><title>Reader export</title></head><body>
<outline text="Tech"><outline text="The Register" type="rss" xmlUrl="https://www.theregister.com/headlines.atom"/>
<outline title="IT Home" text="ignored" xmlUrl="https://www.ithome.com/rss/"/></outline>
<outline text="BBC Chinese" type="rss" xmlUrl="https://feeds.bbci.co.uk/zhongwen/simp/rss.xml"/>
<outline text="folder without feeds"/>
</body></opml>"""


def test_import_opml_adds_feeds_from_folders_and_skips_known_ones(tmp_path: Path) -> None:
    start(tmp_path)
    invoke("sources", "add", "bbc", "https://feeds.bbci.co.uk/zhongwen/simp/rss.xml", "--no-check")
    opml = tmp_path / "reader.opml"
    opml.write_bytes(OPML)
    result = invoke("sources", "import-opml", str(opml))
    assert "Imported 2 feeds" in result.stdout
    assert "1 already there" in result.stdout
    names = {s.name: s.url for s in load_config(config_path(tmp_path)).sources}
    assert names["the-register"] == "https://www.theregister.com/headlines.atom"
    assert names["it-home"] == "https://www.ithome.com/rss/"


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    start(tmp_path)
    invoke("sources", "add", "wire", "https://a.test/feed.xml", "--no-check", "--lang", "en")
    invoke("sources", "add", "gnews", "--kind", "google-news", "--query", "export controls")
    invoke("sources", "add", "fr", "--kind", "federal-register")  # not a feed: not exported
    exported = invoke("sources", "export-opml").stdout
    outlines = parse_opml(exported.encode())
    assert [o.title for o in outlines] == ["wire", "gnews"]
    assert outlines[1].xml_url.startswith("https://news.google.com/rss/search?q=export+controls")
    other = tmp_path / "other"
    other.mkdir()
    (other / "in.opml").write_text(exported, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["--config", str(other / "tracker.toml"), "sources", "import-opml", str(other / "in.opml")],
    )
    assert result.exit_code == 0, result.output
    again = parse_opml(
        CliRunner()
        .invoke(cli, ["--config", str(other / "tracker.toml"), "sources", "export-opml"])
        .stdout.encode()
    )
    assert [(o.title, o.xml_url) for o in again] == [(o.title, o.xml_url) for o in outlines]


def test_a_file_that_is_not_opml_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.opml"
    bad.write_text("<html>nope</html>", encoding="utf-8")
    result = invoke("sources", "import-opml", str(bad))
    assert result.exit_code == 1
    assert "not an OPML file" in result.stderr


def test_an_rss_add_without_a_url_says_what_to_type(tmp_path: Path) -> None:
    start(tmp_path)
    result = invoke("sources", "add", "wire", "--kind", "rss")
    assert result.exit_code == 2
    assert "a rss source needs its URL: tracker sources add wire https://... --kind rss" in (
        result.stderr
    )
    page = invoke("sources", "add", "bis", "https://bis.test/news", "--kind", "page")
    assert "--selector" in page.stderr


PAGE = """<!DOCTYPE html><html><head><title>News</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="Policy news" href="/feeds/policy.xml">
</head><body><a href="/a/1">Story</a></body></html>"""


def test_a_listing_page_url_finds_and_offers_the_feed_it_links_to(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    start(tmp_path)
    httpserver.expect_request("/news").respond_with_data(PAGE, content_type="text/html")
    httpserver.expect_request("/feeds/policy.xml").respond_with_data(
        rss([{"title": "A", "link": "http://x.test/a"}]), content_type="application/rss+xml"
    )
    feed = httpserver.url_for("/feeds/policy.xml")
    refused = invoke("sources", "add", "news", httpserver.url_for("/news"))
    assert refused.exit_code == 2
    assert f"it links to the feed {feed} (Policy news)" in refused.stderr
    assert f"tracker sources add news {feed}" in refused.stderr
    assert load_config(config_path(tmp_path)).sources == ()  # a refused add changes nothing
    taken = invoke("sources", "add", "news", httpserver.url_for("/news"), "--yes")
    assert taken.exit_code == 0, taken.output
    assert load_config(config_path(tmp_path)).sources[0].url == feed


def test_a_page_that_links_to_no_feed_points_at_the_page_kind(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    start(tmp_path)
    httpserver.expect_request("/plain").respond_with_data(
        "<html><body><a href='/a'>a</a></body></html>", content_type="text/html"
    )
    result = invoke("sources", "add", "p", httpserver.url_for("/plain"))
    assert result.exit_code == 2
    assert "links to no feed" in result.stderr
    assert "--kind page" in result.stderr


def test_import_opml_names_what_it_created(tmp_path: Path) -> None:
    start(tmp_path)
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline text="Chip Wire" type="rss" xmlUrl="https://a.test/chips.xml"/>'
        '<outline text="Trade Desk" type="rss" xmlUrl="https://a.test/trade.xml"/>'
        "</body></opml>",
        encoding="utf-8",
    )
    result = invoke("sources", "import-opml", str(opml))
    assert result.exit_code == 0
    names = [s.name for s in load_config(config_path(tmp_path)).sources]
    assert len(names) == 2
    for name in names:
        assert name in result.stdout
