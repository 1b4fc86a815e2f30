"""retag: one pass over the store applies a changed vocabulary; a second pass changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from tracker.cli import cli
from tracker.models import Article
from tracker.store import Store
from tracker.tagging.retag import run_retag
from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import load_vocabulary

NOW = datetime(2025, 12, 1, tzinfo=UTC)


def fill(store: Store, tagger: Tagger, n: int = 7) -> None:
    batch = []
    for i in range(n):
        a = Article(
            url=f"https://a.test/{i}",
            source="s",
            title=f"Story {i}",
            text="紫光展锐 and Nvidia on the Entity List.",
        )
        batch.append((a, tagger.tag(a.title, a.text)))
    store.save_batch("s", batch, now=NOW)


def test_retag_applies_a_new_vocabulary_and_is_idempotent(
    store: Store, tagger: Tagger, tmp_path: Path
) -> None:
    fill(store, tagger)
    extra = tmp_path / "v.toml"
    extra.write_text(
        '[[company]]\nslug = "unisoc"\nname = "UNISOC"\naliases = ["紫光展锐"]\n', encoding="utf-8"
    )
    seen: list[tuple[int, int]] = []
    report = run_retag(
        store, Tagger(load_vocabulary(extra)), batch=3, progress=lambda d, t: seen.append((d, t))
    )
    assert (report.articles, report.changed) == (7, 7)
    assert seen == [(3, 7), (6, 7), (7, 7)]
    tagged = {
        r["article_id"]
        for r in store.db.query(
            "SELECT article_id FROM article_tags WHERE tag_id = 'company:unisoc'"
        )
    }
    assert len(tagged) == 7
    again = run_retag(store, Tagger(load_vocabulary(extra)))
    assert again.changed == 0
    assert store.count("article_tags") == 7 * 3  # nvidia, entity-list, unisoc: nothing doubled


def test_retag_fills_relevance_for_articles_saved_without_it(store: Store, tagger: Tagger) -> None:
    fill(store, tagger, 2)
    assert {r["relevance"] for r in store.db.query("SELECT relevance FROM articles")} == {None}
    run_retag(store, tagger)
    assert all(r["relevance"] > 0 for r in store.db.query("SELECT relevance FROM articles"))


def test_retag_command(tmp_path: Path, tagger: Tagger) -> None:
    store = Store.open(tmp_path / "tracker.db")  # TRACKER_HOME is tmp_path: the default database
    fill(store, tagger, 3)
    store.close()
    result = CliRunner().invoke(cli, ["retag"])
    assert result.exit_code == 0, result.output
    assert "Retagged 3 articles: 3 got new tags or relevance." in result.stdout
    again = CliRunner().invoke(cli, ["retag"]).stdout
    assert "Checked 3 articles: all already match the vocabulary; nothing changed." in again
