"""The demo leaves a store on which the README's commands show something: ids that are the same
in every demo store (the README's `tracker show` works), dates up to today, and -q honoured."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tracker.cli import cli
from tracker.cli.fetching import DEMO_SHOW_ID

README = Path(__file__).parent.parent / "README.md"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = invoke("--db", str(db), "demo")
    assert result.exit_code == 0, result.output
    return db


def test_the_readme_show_example_is_a_demo_id(demo_db: Path) -> None:
    shown = re.findall(r"tracker show ([0-9a-f]{8})", README.read_text(encoding="utf-8"))
    assert shown
    assert set(shown) == {DEMO_SHOW_ID}
    result = invoke("--db", str(demo_db), "show", DEMO_SHOW_ID)
    assert result.exit_code == 0, result.output
    assert "Additions to the Entity List" in result.stdout


def test_ids_do_not_depend_on_the_port(demo_db: Path, tmp_path: Path) -> None:
    other = tmp_path / "again.db"
    assert invoke("--db", str(other), "-q", "demo").exit_code == 0
    ids = [
        {
            r["id"]
            for r in json.loads(
                invoke("--db", str(db), "search", "-n", "50", "--all-copies", "-f", "json").stdout
            )
        }
        for db in (demo_db, other)
    ]
    assert ids[0] == ids[1]
    assert len(ids[0]) == 24


@pytest.mark.parametrize(
    "args",
    [["stories"], ["tags"], ["trends", "company:nvidia"], ["search", "--since", "7d"], ["digest"]],
)
def test_the_readme_default_windows_show_something_on_the_demo(
    demo_db: Path, args: list[str]
) -> None:
    result = invoke("--db", str(demo_db), *args)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) >= 3, result.output
    assert "No " not in result.stderr


def test_quiet_demo_prints_nothing_but_still_stores(tmp_path: Path) -> None:
    db = tmp_path / "quiet.db"
    result = invoke("-q", "--db", str(db), "demo")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""
    assert json.loads(invoke("--db", str(db), "search", "H20", "-f", "json").stdout)


@pytest.mark.parametrize(
    ("query", "lang"),
    [("实体清单", "zh-Hans"), ("實體清單", "zh-Hant"), ("Entity List", "en"), ("licence", "en")],
)
def test_a_story_is_shown_in_the_query_language(demo_db: Path, query: str, lang: str) -> None:
    rows = json.loads(invoke("--db", str(demo_db), "search", query, "-f", "json").stdout)
    several = [r for r in rows if r["story_size"] > 1]
    assert several
    assert all(r["lang"] == lang for r in several), [(r["lang"], r["title"]) for r in rows]


def test_score_is_never_null_and_says_what_the_order_follows(demo_db: Path) -> None:
    matched = json.loads(invoke("--db", str(demo_db), "search", "H20", "-f", "json").stdout)
    assert all(r["score"] > 0 and r["rank_by"] == "match" for r in matched)
    listed = json.loads(invoke("--db", str(demo_db), "search", "-f", "json").stdout)
    assert all(r["score"] == 0.0 and r["rank_by"] == "newest" for r in listed)


def test_verbose_search_says_how_the_query_was_read(demo_db: Path) -> None:
    result = invoke("-v", "--db", str(demo_db), "search", "H20 licence", "-f", "json")
    assert "FTS5" in result.stderr
    assert "'licence': ['policy:export-licence']" in result.stderr
    assert "shown" in result.stderr
    quiet = invoke("--db", str(demo_db), "search", "H20 licence", "-f", "json")
    assert "FTS5" not in quiet.stderr


def test_the_demo_hints_name_the_demo_store(tmp_path: Path) -> None:
    result = invoke("demo")  # TRACKER_HOME is tmp_path: demo.db beside the default database
    hints = result.stdout.split("Try next:")[1]
    assert f"tracker --db {tmp_path / 'demo.db'} show {DEMO_SHOW_ID}" in hints


def test_the_demo_links_its_news_to_the_listed_entities(demo_db: Path) -> None:
    [smic] = json.loads(invoke("--db", str(demo_db), "entity", "中芯国际", "-f", "json").stdout)[
        "entities"
    ]
    assert [(e["list_code"], e["citation"]) for e in smic["entries"]] == [("EL", "85 FR 83420")]
    langs = {a["lang"] for a in smic["articles"]}
    assert {"en", "zh-Hans", "zh-Hant"} <= langs  # the same event in three scripts
    listed = invoke("--db", str(demo_db), "search", "listed:entity-list", "-f", "json").stdout
    assert len(json.loads(listed)) >= 3
