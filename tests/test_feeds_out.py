"""Search results as Atom and RSS: read back by feedparser without complaint, and by tracker's
own rss source kind (a saved search followed by another tracker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tracker.cli import cli
from tracker.search.feedout import feed


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    assert invoke("--db", str(db), "-q", "demo").exit_code == 0
    return db


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_a_search_is_a_valid_feed_with_one_entry_per_story(demo_db: Path, fmt: str) -> None:
    rows = json.loads(invoke("--db", str(demo_db), "search", "H20", "-f", "json").stdout)
    out = invoke("--db", str(demo_db), "search", "H20", "-f", fmt).stdout
    parsed = feedparser.parse(out)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == [r["title"] for r in rows]
    assert [e.link for e in parsed.entries] == [r["url"] for r in rows]
    story = next(i for i, r in enumerate(rows) if r["also"])
    text = (
        parsed.entries[story].get("content", [{}])[0].get("value") or parsed.entries[story].summary
    )
    for member in rows[story]["also"]:
        assert member["url"] in text  # the story's other copies, as links
    assert "[" not in parsed.entries[0].title


def test_ids_are_stable_so_a_reader_sees_only_new_entries(demo_db: Path) -> None:
    first = feedparser.parse(invoke("--db", str(demo_db), "search", "H20", "-f", "atom").stdout)
    again = feedparser.parse(invoke("--db", str(demo_db), "search", "H20", "-f", "atom").stdout)
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    assert first.feed.id == again.feed.id


def test_hostile_text_stays_text_in_a_well_formed_feed() -> None:
    hit = {
        "id": "abc",
        "title": '<script>alert(1)</script> & "quotes" \x01\x0b',
        "url": "http://x.test/a?b=1&c=2",
        "source": "s<>",
        "snippet": "a [match] \x00 here",
        "published_at": "2026-12-01T00:00:00+00:00",
        "tags": [],
        "also": [{"url": "http://x.test/b", "title": "<b>x</b>", "source": "t"}],
    }
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(feed([hit], fmt, "q", datetime.now(UTC)))
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.entries[0].link == "http://x.test/a?b=1&c=2"


def test_the_rss_feed_round_trips_through_an_rss_source(
    demo_db: Path, tmp_path: Path, httpserver: HTTPServer
) -> None:
    rss = invoke("--db", str(demo_db), "search", "H20", "-f", "rss").stdout
    rows = json.loads(invoke("--db", str(demo_db), "search", "H20", "-f", "json").stdout)
    httpserver.expect_request("/saved.xml").respond_with_data(
        rss, content_type="application/rss+xml"
    )
    home = tmp_path / "reader"
    home.mkdir()
    (home / "tracker.toml").write_text(
        '[settings]\nmin_interval = 0\nretries = 0\n\n[[sources]]\nname = "saved"\n'
        f'kind = "rss"\nurl = "{httpserver.url_for("/saved.xml")}"\n',
        encoding="utf-8",
    )
    env = {"TRACKER_HOME": str(home)}
    assert invoke("fetch", env=env).exit_code == 0
    got = json.loads(
        invoke("search", "--since", "3000d", "-f", "json", "--all-copies", env=env).stdout
    )
    assert sorted(r["url"] for r in got) == sorted(r["url"] for r in rows)


def test_export_feeds_writes_one_feed_per_subscriber_filter(demo_db: Path, tmp_path: Path) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text(
        '[[digest.subscribers]]\nemail = "ana@example.org"\nname = "Ana"\n\n'
        '[[digest.subscribers]]\nemail = "nv@example.org"\nfilter = "company:nvidia"\n'
        'watch = ["entity:smic", "policy:entity-list"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "feeds"
    result = invoke(
        "--db", str(demo_db), "--config", str(config), "export-feeds", str(out), "--since", "3000d"
    )
    assert result.exit_code == 0, result.output
    # no .part left; one feed per watched entity, none for a watched query that is not one
    assert sorted(p.name for p in out.iterdir()) == ["ana.atom", "entity-smic.atom", "nv.atom"]
    smic = feedparser.parse((out / "entity-smic.atom").read_text(encoding="utf-8"))
    assert not smic.bozo
    assert smic.entries  # the demo's news names SMIC in three scripts
    nvidia = feedparser.parse((out / "nv.atom").read_text(encoding="utf-8"))
    assert not nvidia.bozo
    assert nvidia.entries
    assert all("company:nvidia" in [t.term for t in e.tags] for e in nvidia.entries)
    everyone = feedparser.parse((out / "ana.atom").read_text(encoding="utf-8"))
    assert len(everyone.entries) > len(nvidia.entries)
