"""`datasette tracker.db` on its own reads well: references become links shown by the row's
title, and the reading views are there. Datasette is driven in-process through its own ASGI
client (no network), on a demo store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tracker.cli import cli

datasette_app = pytest.importorskip("datasette.app", reason="Datasette is not installed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("datasette") / "tracker.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return db


def fetch(db: Path, path: str) -> Any:
    async def run() -> Any:
        ds = datasette_app.Datasette([str(db)])
        response = await ds.client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        return response

    return asyncio.run(run())


def test_a_storys_lead_is_shown_by_its_title(demo: Path) -> None:
    rows = fetch(demo, "/tracker/stories.json?_labels=on&_shape=array&_sort_desc=size").json()
    lead = rows[0]["lead_id"]
    article = fetch(demo, f"/tracker/articles/{lead['value']}.json?_shape=array").json()[0]
    assert lead["label"] == article["title"]


def test_an_article_links_to_its_story_and_source(demo: Path) -> None:
    rows = fetch(demo, "/tracker/articles.json?_labels=on&_shape=array&_size=5").json()
    assert all(isinstance(r["story_id"], dict) for r in rows if r["story_id"] is not None)
    assert all(r["source"]["label"] == r["source"]["value"] for r in rows)
    table = fetch(demo, "/tracker/articles?_size=5").text
    assert 'href="/tracker/stories/' in table  # the story column is a link
    assert 'href="/tracker/sources/' in table
    lead = fetch(demo, f"/tracker/articles/{rows[0]['id']}").text
    assert "/tracker/stories?lead_id=" in lead  # and a row lists what refers to it


@pytest.mark.parametrize(
    ("view", "column"),
    [("latest_relevant_articles", "tags"), ("stories_with_members", "members")],
)
def test_the_reading_views_are_listed_and_read(demo: Path, view: str, column: str) -> None:
    listing = fetch(demo, "/tracker.json").json()
    assert view in {v["name"] for v in listing["views"]}
    rows = fetch(demo, f"/tracker/{view}.json?_shape=array").json()
    assert rows
    assert all(r[column] for r in rows)
