"""The labelled search set: every expected article is found, for queries in either script."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.models import Article
from tracker.search.engine import search
from tracker.store import Store
from tracker.tagging.tagger import Tagger

DATA = Path(__file__).parent / "data" / "search"
QUERIES = tomllib.loads((DATA / "queries.toml").read_text("utf-8"))["query"]


@pytest.fixture
def corpus(store: Store, tagger: Tagger) -> Store:
    articles = tomllib.loads((DATA / "corpus.toml").read_text("utf-8"))["article"]
    batch = []
    for a in articles:
        article = Article(
            url=f"https://corpus.test/{a['id']}",
            source="s",
            title=a["title"],
            text=a["text"],
            lang=a["lang"],
        )
        batch.append((article, tagger.tag(article.title, article.text, article.lang)))
    store.save_batch("s", batch, now=datetime(2025, 12, 1, tzinfo=UTC))
    return store


@pytest.mark.parametrize("case", QUERIES, ids=[q["q"] for q in QUERIES])
def test_every_expected_article_is_found(corpus: Store, tagger: Tagger, case: dict) -> None:
    expand = None if case.get("exact") else tagger.lookup
    covers = None if case.get("exact") else tagger.covers  # as tracker search runs it
    hits = search(corpus, case["q"], expand=expand, covers=covers, limit=100, collapse=False)
    found = {h.url.rsplit("/", 1)[1] for h in hits}
    missing = set(case["expect"]) - found
    assert not missing, f"{case['q']!r} missed {sorted(missing)}"
