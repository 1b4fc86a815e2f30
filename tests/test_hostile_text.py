"""Stored text reaches the terminal as text: brackets in titles, bodies and source names are never
read as rich markup (a "[/b]" once ended `tracker show` in a traceback)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from tracker.cli import cli
from tracker.models import Article
from tracker.store import Store

TITLE = "[update] US adds 23 firms [/b] to the Entity List"
BODY = "The rule [sic] names 23 Nvidia partners [/] and takes effect [bold]today[/bold]."


def hostile_store(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "tracker.db"
    store = Store.open(db)
    article = Article(
        url="https://news.test/1",
        source="[red]wire[/red]",
        title=TITLE,
        text=BODY,
        lang="en",
        relevance=0.9,
    )
    store.save_batch("[red]wire[/red]", [(article, [])], now=datetime.now(UTC))
    aid = store.db.query("SELECT id FROM articles")[0]["id"]
    store.close()
    return db, aid


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_show_prints_brackets_in_titles_and_bodies_as_they_are(tmp_path: Path) -> None:
    db, aid = hostile_store(tmp_path)
    out = run("--db", str(db), "show", aid)
    assert TITLE in out
    assert BODY in out
    assert "[red]wire[/red]" in out


def test_search_table_shows_the_title_and_source_with_their_brackets(tmp_path: Path) -> None:
    db, _ = hostile_store(tmp_path)
    out = run("--db", str(db), "search", "firms")
    assert "[update]" in out
    assert "[/b]" in out
    assert "[red]wire[/red]" in out


def test_plain_tables_show_stored_text_as_it_is(tmp_path: Path) -> None:
    db, _ = hostile_store(tmp_path)
    run("--db", str(db), "stories", "update")
    out = run("--db", str(db), "stories", "--since", "3650d")
    assert "[update]" in out
    assert "[red]wire[/red]" in out


def test_sources_list_and_status_show_a_source_name_as_it_is(tmp_path: Path) -> None:
    db, _ = hostile_store(tmp_path)
    out = run("--db", str(db), "sources", "list")
    assert "[red]wire[/red]" in out


def test_the_digest_preview_prints_titles_and_bodies_as_they_are(tmp_path: Path) -> None:
    db, _ = hostile_store(tmp_path)
    out = run("--db", str(db), "digest")
    assert TITLE in out
    assert "[sic]" in out
    assert "[/]" in out


def test_the_fetch_summary_shows_a_source_name_and_an_error_as_they_are(tmp_path: Path) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text(
        '[settings]\nretries = 0\n\n[[sources]]\nname = "[bold]x[/bold]"\nkind = "rss"\n'
        'url = "http://127.0.0.1:9/[/b]"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "--db", str(tmp_path / "t.db"), "fetch"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1
    assert "[bold]x[/bold]" in result.output
