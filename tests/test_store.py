"""The store: migrations, idempotent saves, updates, the FTS index in step, atomic batches."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.errors import TrackerError
from tracker.models import Article
from tracker.store import LogEntry, Store
from tracker.store.connection import applied_migrations
from tracker.store.migrations import MIGRATION_NAMES
from tracker.tagging.tagger import Tagger

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def art(
    url: str = "https://a.test/1", text: str = "Nvidia ships H20 chips.", title: str = "H20"
) -> Article:
    return Article(url=url, source="s", title=title, text=text, lang="en")


def fts_rows(store: Store, query: str) -> int:
    return len(
        list(store.db.query("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", [query]))
    )


def test_open_creates_the_file_in_wal_mode_and_applies_migrations_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "t.db"
    Store.open(path).close()
    store = Store.open(path)
    assert path.exists()
    assert next(iter(store.db.query("PRAGMA journal_mode")))["journal_mode"] == "wal"
    assert applied_migrations(store.db) == list(MIGRATION_NAMES)
    assert MIGRATION_NAMES[0] == "m001_create_core_tables"
    assert len(set(MIGRATION_NAMES)) == len(MIGRATION_NAMES)


def test_opening_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"this is a text file, not sqlite" * 100)
    with pytest.raises(TrackerError, match="cannot open database"):
        Store.open(bad)


def test_saving_twice_stores_once(store: Store, tagger: Tagger) -> None:
    a = art()
    first = store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=NOW)
    second = store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=NOW)
    assert (first.new, second.new, second.unchanged) == (1, 0, 1)
    assert store.count() == 1
    assert fts_rows(store, "nvidia") == 1


def test_tracking_parameters_do_not_make_a_second_article(store: Store) -> None:
    store.save_batch("s", [(art("https://a.test/1?utm_source=rss"), [])], now=NOW)
    counts = store.save_batch("s", [(art("https://A.test/1#x"), [])], now=NOW)
    assert counts.unchanged == 1
    assert store.count() == 1


def test_an_updated_article_is_updated_not_duplicated(store: Store, tagger: Tagger) -> None:
    a = art(text="Nvidia ships H20 chips.")
    store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=NOW)
    b = art(text="AMD ships MI308 chips.")
    later = datetime(2025, 12, 2, tzinfo=UTC)
    counts = store.save_batch("other-source", [(b, tagger.tag(b.title, b.text))], now=later)
    assert counts.updated == 1
    assert store.count() == 1
    row = store.article(next(iter(store.db.query("SELECT id FROM articles")))["id"])
    assert row is not None
    assert row["text"] == "AMD ships MI308 chips."
    assert row["first_seen_at"] == "2025-12-01T12:00:00+00:00"
    assert row["updated_at"] == "2025-12-02T00:00:00+00:00"
    assert row["source"] == "s"  # the first source is kept
    assert {t["slug"] for t in row["tags"]} >= {"amd", "mi308"}
    assert "nvidia" not in {t["slug"] for t in row["tags"]}
    assert fts_rows(store, "nvidia") == 0
    assert fts_rows(store, "mi308") == 1


def test_a_failing_batch_leaves_nothing_behind(store: Store) -> None:
    class Boom(Exception):
        pass

    def articles():
        yield art("https://a.test/1"), []
        raise Boom

    with pytest.raises(Boom):
        store.save_batch("s", articles(), now=NOW, log=[LogEntry("s", "u", "feed", status=200)])
    assert store.count() == 0
    assert store.count("fetch_log") == 0


def test_article_lookup_by_unique_prefix(store: Store) -> None:
    store.save_batch("s", [(art(), [])], now=NOW)
    full = next(iter(store.db.query("SELECT id FROM articles")))["id"]
    assert store.article(full[:6])["id"] == full  # type: ignore[index]
    assert store.article("zzzz") is None


def test_iter_articles_visits_every_row_in_batches(store: Store) -> None:
    store.save_batch("s", [(art(f"https://a.test/{i}"), []) for i in range(7)], now=NOW)
    batches = list(store.iter_articles(batch=3))
    assert [len(b) for b in batches] == [3, 3, 1]


def test_the_contentless_index_stays_exact_through_updates_retags_and_deletes(
    store: Store, tagger: Tagger, tmp_path: Path
) -> None:
    from tracker.tagging.retag import run_retag
    from tracker.tagging.vocabulary import load_vocabulary

    old = art("https://a.test/1", text="英伟达H20芯片 and the Entity List", title="輝達 licences")
    other = art("https://a.test/2", text="Gallium exports fell", title="镓")
    store.save_batch("s", [(a, tagger.tag(a.title, a.text)) for a in (old, other)], now=NOW)
    new = art("https://a.test/1", text="AMD MI308 chips", title="AMD licences")
    store.save_batch("s", [(new, tagger.tag(new.title, new.text))], now=NOW)
    extra = tmp_path / "v.toml"
    extra.write_text(
        '[[company]]\nslug = "gallium-co"\nname = "G"\naliases = ["Gallium exports"]\n',
        encoding="utf-8",
    )
    run_retag(store, Tagger(load_vocabulary(extra)))
    store.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    for gone in ('"英伟" "伟达"', "h20", '"tagcompanynvidia"', '"tagpolicyentitylist"'):
        assert fts_rows(store, gone) == 0, gone
    for present in (
        "amd",
        "mi308",
        "chips",
        '"tagcompanyamd"',
        "gallium",
        '"tagcompanygalliumco"',
    ):
        assert fts_rows(store, present) == 1, present
    store.delete_articles(
        [next(iter(store.db.query("SELECT id FROM articles WHERE url LIKE '%/2'")))["id"]]
    )
    store.db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    assert fts_rows(store, "gallium") == 0
    assert fts_rows(store, "amd") == 1


def test_one_article_from_two_sources_is_stored_once_with_both_recorded(
    store: Store, tagger: Tagger
) -> None:
    first = Article(
        url="https://www.example.com/news/a/", source="wire", title="H20", text="Nvidia ships."
    )
    copy = Article(
        url="https://m.example.com/news/a/amp", source="partner", title="H20", text="Nvidia ships."
    )
    store.save_batch("wire", [(first, tagger.tag(first.title, first.text))], now=NOW)
    counts = store.save_batch("partner", [(copy, tagger.tag(copy.title, copy.text))], now=NOW)
    assert counts.unchanged == 1
    assert store.count() == 1
    row = store.article(next(iter(store.db.query("SELECT id FROM articles")))["id"])
    assert row is not None
    assert row["source"] == "wire"
    assert row["sources"] == ["wire", "partner"]
    store.delete_articles([row["id"]])
    assert store.count("article_sources") == 0
