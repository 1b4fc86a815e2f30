"""Tag counts against the previous period, trend series and sparklines, show --highlight."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from tracker.cli import cli
from tracker.models import Article
from tracker.search.engine import mark_matches, search
from tracker.search.trends import sparkline, tag_counts, tag_series
from tracker.store import Store
from tracker.tagging.tagger import Tagger

NOW = datetime(2025, 12, 10, 12, 0, tzinfo=UTC)


def add(store: Store, tagger: Tagger, url: str, text: str, days_ago: float) -> None:
    a = Article(
        url=url, source="s", title=text[:40], text=text, published_at=NOW - timedelta(days=days_ago)
    )
    store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=NOW)


def fill(store: Store, tagger: Tagger) -> None:
    add(store, tagger, "https://a.test/1", "Nvidia and the Entity List", 1)
    add(store, tagger, "https://a.test/2", "Nvidia H20 licences", 2)
    add(store, tagger, "https://a.test/3", "Nvidia results", 9)
    add(store, tagger, "https://a.test/4", "Gallium export controls", 10)


def test_counts_compare_with_the_previous_period(store: Store, tagger: Tagger) -> None:
    fill(store, tagger)
    counts = {c.tag: c for c in tag_counts(store, NOW - timedelta(days=7), NOW)}
    assert (counts["company:nvidia"].count, counts["company:nvidia"].previous) == (2, 1)
    assert counts["company:nvidia"].change == 1
    assert (counts["material:gallium"].count, counts["material:gallium"].previous) == (0, 1)
    assert counts["policy:entity-list"].previous == 0  # appeared this period
    companies = tag_counts(store, NOW - timedelta(days=7), NOW, kind="company")
    assert {c.tag for c in companies} == {"company:nvidia"}


def test_series_by_day_and_week(store: Store, tagger: Tagger) -> None:
    fill(store, tagger)
    days = tag_series(store, ["company:nvidia"], NOW - timedelta(days=10), NOW)["company:nvidia"]
    assert len(days) == 11
    assert days[-2:] == [("2025-12-09", 1), ("2025-12-10", 0)]
    assert sum(n for _, n in days) == 3
    weeks = tag_series(store, ["company:nvidia"], NOW - timedelta(days=10), NOW, by="week")[
        "company:nvidia"
    ]
    assert [p for p, _ in weeks] == ["2025-11-24", "2025-12-01", "2025-12-08"]  # Mondays
    assert [n for _, n in weeks] == [0, 1, 2]


def test_sparkline_scales_to_the_largest_value() -> None:
    low, mid, high = sparkline([0, 4, 8])
    assert (low, high) == ("▁", "█")
    assert "▁" < mid < "█"  # block characters are in rising order
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""


def test_tags_and_trends_commands(tmp_path: Path, tagger: Tagger) -> None:
    store = Store.open(tmp_path / "tracker.db")
    now = datetime.now(UTC)
    for i, days in enumerate((1, 2, 20)):
        a = Article(
            url=f"https://a.test/{i}",
            source="s",
            title="Nvidia news",
            text="Nvidia.",
            published_at=now - timedelta(days=days),
        )
        store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=now)
    store.close()
    runner = CliRunner()
    rows = {
        r["tag"]: r
        for r in json.loads(runner.invoke(cli, ["tags", "--since", "7d", "-f", "json"]).stdout)
    }
    assert rows["company:nvidia"]["count"] == 2
    trend = json.loads(
        runner.invoke(cli, ["trends", "company:nvidia", "--since", "30d", "-f", "json"]).stdout
    )
    assert sum(p["count"] for p in trend["company:nvidia"]) == 3
    table = runner.invoke(cli, ["trends", "company:nvidia", "--since", "30d"])
    assert "total 3" in table.stdout
    assert any(ch in table.stdout for ch in "▁█")
    bad = runner.invoke(cli, ["trends", "company:nvida"])
    assert bad.exit_code == 2
    assert "unknown tag" in bad.stderr


def test_mark_matches_in_either_script() -> None:
    assert mark_matches("美國將企業列入實體清單。", ["实体清单"]) == "美國將企業列入[實體清單]。"
    assert mark_matches("The Entity List grew", ["entity list"]) == "The [Entity List] grew"


def test_deleted_articles_leave_the_index(store: Store, tagger: Tagger) -> None:
    fill(store, tagger)
    assert len(search(store, "nvidia")) == 3
    ids = [h.id for h in search(store, "nvidia")][:2]
    assert store.delete_articles([*ids, "missing"]) == 2
    assert len(search(store, "nvidia")) == 1
    assert store.count("articles_fts") == 2
    assert (
        store.db.execute(
            "SELECT count(*) FROM article_tags WHERE article_id IN (?, ?)", ids
        ).fetchone()[0]
        == 0
    )
