"""Every command through click, with a real config file, server and database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tracker.cli import cli

from .helpers import rss


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def write_config(tmp_path: Path, httpserver: HTTPServer, extra: str = "") -> Path:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(
            [
                {
                    "title": "Commerce adds firms to the Entity List",
                    "link": "http://x.test/1",
                    "description": "BIS added companies supporting SMIC to the Entity List.",
                    "date": "2025-12-03T14:00:00+00:00",
                },
                {
                    "title": "英伟达H20芯片恢复出口",
                    "link": "http://x.test/2",
                    "description": "美国商务部向英伟达发放H20出口许可证。",
                    "date": "2025-08-12T12:00:00+00:00",
                },
            ]
        ),
        content_type="application/rss+xml",
    )
    path = tmp_path / "tracker.toml"
    path.write_text(
        "[settings]\nmin_interval = 0\nretries = 0\n\n"
        f'[[sources]]\nname = "wire"\nkind = "rss"\nurl = "{httpserver.url_for("/feed.xml")}"\n'
        + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def fetched(tmp_path: Path, httpserver: HTTPServer) -> Path:
    write_config(tmp_path, httpserver)  # TRACKER_HOME is tmp_path: the default config location
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    return tmp_path


def test_help_shows_examples() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "tracker search" in result.output


def test_init_writes_a_config_and_refuses_to_overwrite(tmp_path: Path) -> None:
    result = invoke("init")
    assert result.exit_code == 0
    assert (tmp_path / "tracker.toml").read_text().startswith("# tracker.toml")
    again = invoke("init")
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert "--force" in again.stderr
    assert invoke("init", "--force").exit_code == 0


def test_fetch_without_config_says_to_run_init() -> None:
    result = invoke("fetch")
    assert result.exit_code == 2
    assert "tracker init" in result.stderr
    assert "Traceback" not in result.output


def test_bad_config_key_exits_2_naming_the_key(tmp_path: Path, httpserver: HTTPServer) -> None:
    config = write_config(tmp_path, httpserver, extra="fetch_article = true\n")
    result = invoke("--config", str(config), "fetch")
    assert result.exit_code == 2
    assert "'fetch_article'" in result.stderr
    assert str(config) in result.stderr


def test_fetch_prints_a_summary_and_is_idempotent(tmp_path: Path, httpserver: HTTPServer) -> None:
    write_config(tmp_path, httpserver)
    first = invoke("fetch")
    assert first.exit_code == 0, first.output
    assert "wire: 2 new, 0 updated, 0 unchanged" in first.stderr  # a plain line when not a terminal
    assert invoke("-q", "fetch").stderr == ""
    assert "wire" in first.stdout
    assert "2" in first.stdout
    second = invoke("fetch")
    assert second.exit_code == 0
    rows = json.loads(invoke("search", "--format", "json").stdout)
    assert len(rows) == 2


def test_fetch_exits_1_when_a_source_fails_but_stores_the_rest(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/dead.xml").respond_with_data("", status=410)
    write_config(
        tmp_path,
        httpserver,
        extra=f'\n[[sources]]\nname = "dead"\nkind = "rss"\nurl = "{httpserver.url_for("/dead.xml")}"\n',
    )
    result = invoke("fetch")
    assert result.exit_code == 1
    assert "1 source(s) failed: dead" in result.stderr
    assert "410 Gone" in result.stdout
    assert len(json.loads(invoke("search", "-f", "json").stdout)) == 2
    listed = json.loads(invoke("sources", "list", "-f", "json").stdout)
    dead = next(s for s in listed if s["name"] == "dead")
    assert "410" in dead["last_error"]


def test_fetch_unknown_source_is_a_usage_error(fetched: Path) -> None:
    result = invoke("fetch", "--source", "nope")
    assert result.exit_code == 2
    assert "no source named 'nope'" in result.stderr


def test_search_json_ndjson_csv_and_table(fetched: Path) -> None:
    rows = json.loads(invoke("search", "entity list", "-f", "json").stdout)
    assert [r["title"] for r in rows] == ["Commerce adds firms to the Entity List"]
    assert {"kind": "policy", "slug": "entity-list", "name": "Entity List"}.items() <= next(
        t for t in rows[0]["tags"] if t["slug"] == "entity-list"
    ).items()
    lines = invoke("search", "英偉達", "-f", "ndjson").stdout.strip().splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["英伟达H20芯片恢复出口"]
    table = list(csv.DictReader(io.StringIO(invoke("search", "--lang", "en", "-f", "csv").stdout)))
    assert table[0]["title"] == "Commerce adds firms to the Entity List"
    assert "policy:entity-list" in table[0]["tags"].split(";")
    assert "Entity List" in invoke("search", "smic").stdout


def test_search_filters_by_tag_and_since(fetched: Path) -> None:
    rows = json.loads(
        invoke(
            "search",
            "--tag",
            "company:nvidia",
            "--since",
            "2025-08-01",
            "--until",
            "2025-09-01",
            "-f",
            "json",
        ).stdout
    )
    assert [r["title"] for r in rows] == ["英伟达H20芯片恢复出口"]


def test_search_with_no_hits_prints_valid_empty_json(fetched: Path) -> None:
    result = invoke("search", "zzzqqq", "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", '"entity'], "unclosed quote at position 1"),
        (["search", "--since", "yesterday"], "7d, 24h"),
        (["search", "--tag", "company:nvida"], "did you mean company:nvidia"),
    ],
)
def test_search_errors_are_one_line(fetched: Path, args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2  # bad usage, as click's own (a bad --limit)
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_show_prints_metadata_tags_and_text(fetched: Path) -> None:
    (row,) = json.loads(invoke("search", "smic", "-f", "json").stdout)
    result = invoke("show", row["id"][:8])
    assert result.exit_code == 0
    assert "Commerce adds firms to the Entity List" in result.stdout
    assert "policy:entity-list" in result.stdout
    assert "BIS added companies supporting SMIC" in result.stdout
    data = json.loads(invoke("show", row["id"], "-f", "json").stdout)
    assert data["url"] == "http://x.test/1"
    assert data["tags"]
    missing = invoke("show", "ffffffffff")
    assert missing.exit_code == 1
    assert "no article" in missing.stderr


def test_sources_list(fetched: Path) -> None:
    rows = json.loads(invoke("sources", "list", "-f", "json").stdout)
    assert rows[0]["name"] == "wire"
    assert rows[0]["articles"] == 2
    assert rows[0]["last_error"] is None
    assert "wire" in invoke("sources", "list").stdout


def test_db_option_and_env_var(tmp_path: Path, httpserver: HTTPServer) -> None:
    write_config(tmp_path, httpserver)
    db = tmp_path / "elsewhere.db"
    assert invoke("--db", str(db), "fetch").exit_code == 0
    assert db.exists()
    rows = json.loads(invoke("search", "-f", "json", env={"TRACKER_DB": str(db)}).stdout)
    assert len(rows) == 2


def test_demo_runs_offline_and_prints_searches(tmp_path: Path) -> None:
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert "Stored 24 articles" in result.stdout
    assert 'search "H20 licence"' in result.stdout
    assert 'search "实体清单"' in result.stdout
    demo_db = tmp_path / "demo.db"
    assert demo_db.exists()
    assert not (tmp_path / "tracker.db").exists()  # the user's own database is never touched
    rows = json.loads(invoke("--db", str(demo_db), "search", "實體清單", "-f", "json").stdout)
    # The rule, the wire and both Chinese rewrites are one story: one row, the others listed;
    # the demo's Federal Register rule adding Cambricon is another Entity List story of its own.
    assert [r["story_size"] for r in rows] == [4, 1]
    assert "Cambricon" in rows[1]["title"]
    assert "stories carried by more than one article" in result.stdout
    every = invoke("--db", str(demo_db), "search", "實體清單", "--all-copies", "-f", "json")
    assert len(json.loads(every.stdout)) == 5
    assert invoke("demo").exit_code == 0  # a second run starts fresh
    assert "Stored 24 articles" in invoke("demo").stdout


def test_python_dash_m_entry_point() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "tracker" in result.stdout


def test_tags_list_filters_by_kind_and_counts_articles(fetched: Path) -> None:
    rows = json.loads(invoke("tags", "list", "--kind", "policy", "-f", "json").stdout)
    assert rows
    assert all(r["tag"].startswith("policy:") for r in rows)
    entity = next(r for r in rows if r["tag"] == "policy:entity-list")
    assert entity["articles"] == 1
    assert "实体清单" in entity["aliases"]


def test_search_relevant_drops_off_topic_articles(tmp_path: Path) -> None:
    assert invoke("demo").exit_code == 0
    db = str(tmp_path / "demo.db")
    every = json.loads(
        invoke("--db", db, "search", "-n", "100", "--all-copies", "-f", "json").stdout
    )
    relevant = json.loads(
        invoke("--db", db, "search", "--relevant", "-n", "100", "--all-copies", "-f", "json").stdout
    )
    titles = {r["title"] for r in relevant}
    assert len(relevant) < len(every)
    assert all(r["relevance"] >= 0.5 for r in relevant)
    assert "Review: a mid-range phone with a surprisingly good camera" not in titles
    assert "Commerce adds 23 Chinese firms to the Entity List" in titles


def test_show_lists_the_other_sources_that_carried_the_article(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    item = {
        "title": "Entity List additions",
        "link": "https://example.com/news/a/",
        "description": "BIS added firms.",
    }
    amp = dict(item, link="https://m.example.com/news/a/amp")
    httpserver.expect_request("/one.xml").respond_with_data(rss([item]))
    httpserver.expect_request("/two.xml").respond_with_data(rss([amp]))
    (tmp_path / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\n"
        f'[[sources]]\nname = "wire"\nkind = "rss"\nurl = "{httpserver.url_for("/one.xml")}"\n'
        f'[[sources]]\nname = "partner"\nkind = "rss"\nurl = "{httpserver.url_for("/two.xml")}"\n',
        encoding="utf-8",
    )
    assert invoke("fetch", "--source", "wire").exit_code == 0
    assert invoke("fetch", "--source", "partner").exit_code == 0
    (row,) = json.loads(invoke("search", "-f", "json").stdout)
    shown = invoke("show", row["id"])
    assert "also carried by  partner" in shown.stdout
