"""The references the store declares (m022) and the views it keeps (m023): what a SQLite browser
such as Datasette follows, kept true by every write path."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from sqlite_utils.migrations import Migrations

from tracker.cli import cli
from tracker.config.stories import StoryRules
from tracker.store import Store
from tracker.store.migrations import SET, STEPS
from tracker.stories.place import delete_articles, place_pending

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def references(db: Path) -> set[tuple[str, str, str]]:
    con = sqlite3.connect(db)
    found = {
        (table, row[3], row[2])
        for table in ("articles", "stories", "digest_items")
        for row in con.execute(f"PRAGMA foreign_key_list({table})")
    }
    con.close()
    return found


def broken(db: Path) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    rows = con.execute("PRAGMA foreign_key_check").fetchall()
    con.close()
    return rows


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return db


def test_a_store_declares_its_references(demo: Path) -> None:
    assert references(demo) >= {
        ("articles", "story_id", "stories"),
        ("articles", "source", "sources"),
        ("stories", "lead_id", "articles"),
        ("digest_items", "article_id", "articles"),
        ("digest_items", "send_id", "digest_sends"),
    }
    assert broken(demo) == []


def test_an_older_store_is_mended_then_given_its_references(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    old = sqlite_utils.Database(db)
    before = Migrations(SET)
    for fn in STEPS[: STEPS.index(next(s for s in STEPS if s.__name__.startswith("m022")))]:
        before()(fn)
    before.apply(old)
    old.execute("PRAGMA foreign_keys = OFF")
    old["articles"].insert_all(
        [
            {"id": "a1", "source": "gone-feed", "title": "kept", "first_seen_at": "2026-12-01"},
            {"id": "a2", "source": "gone-feed", "title": "lost story", "story_id": 99},
        ]
    )
    old["stories"].insert_all(
        [{"id": 1, "lead_id": "a1", "size": 1}, {"id": 2, "lead_id": "deleted", "size": 1}]
    )
    old.execute("UPDATE articles SET story_id = 1 WHERE id = 'a1'")
    old["digest_items"].insert_all(
        [
            {"email": "e@x", "article_id": "a1", "send_id": 7},
            {"email": "e@x", "article_id": "deleted", "send_id": 7},
        ]
    )
    old.conn.commit()
    old.close()

    Store.open(db).close()  # migrates

    con = sqlite3.connect(db)
    assert con.execute("SELECT name FROM sources").fetchall() == [("gone-feed",)]
    assert con.execute("SELECT id FROM stories").fetchall() == [(1,)]
    assert con.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == [
        ("a1", 1),
        ("a2", None),  # placed again by the next fetch
    ]
    assert con.execute("SELECT article_id, send_id FROM digest_items").fetchall() == [("a1", None)]
    con.close()
    assert broken(db) == []
    assert ("stories", "lead_id", "articles") in references(db)


def test_rebuild_and_deletion_keep_every_reference(demo: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(demo), "stories", "rebuild"])
    assert result.exit_code == 0, result.output
    assert broken(demo) == []
    store = Store.open(demo)
    lead = store.db.one("SELECT lead_id FROM stories ORDER BY size DESC LIMIT 1")
    store.db.execute(
        "INSERT INTO digest_items (email, article_id, send_id, sent_at) VALUES (?, ?, NULL, ?)",
        ["e@x", lead, "2026-12-06"],
    )
    assert delete_articles(store, [lead], NOW) == 1  # a story's lead, once sent in a digest
    assert place_pending(store, StoryRules(), now=NOW).placed == 0
    store.close()
    assert broken(demo) == []


def test_a_write_that_would_break_a_reference_is_refused_whole(demo: Path) -> None:
    store = Store.open(demo)
    before = store.db.one("SELECT count(*) FROM stories")
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.db.execute("DELETE FROM stories")  # articles still point at them
    assert store.db.one("SELECT count(*) FROM stories") == before
    store.close()


def test_the_reading_views_list_newest_first(demo: Path) -> None:
    con = sqlite3.connect(demo)
    latest = con.execute(
        "SELECT published, relevance, tags FROM latest_relevant_articles"
    ).fetchall()
    assert latest
    assert [r[0] for r in latest] == sorted((r[0] for r in latest), reverse=True)
    assert all(r[1] >= 0.5 for r in latest)
    assert any("company:nvidia" in (r[2] or "") for r in latest)
    stories = con.execute(
        "SELECT story_id, members, languages, lead_title FROM stories_with_members"
    ).fetchall()
    sizes = dict(con.execute("SELECT story_id, count(*) FROM articles GROUP BY story_id"))
    assert all(members == sizes[sid] for sid, members, _, _ in stories)
    assert any("zh" in langs and "en" in langs for _, _, langs, _ in stories)
    con.close()
