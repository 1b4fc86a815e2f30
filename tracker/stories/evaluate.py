"""Measure story joining on a labelled set: pairwise precision and recall, and the wrong pairs.

A set is a directory of TOML files with ``[[article]]`` tables: ``id``, ``story`` (the label),
``url``, ``source``, ``lang``, ``published``, ``title``, ``text``, optional ``document_number``; or
``copy_of = "<id>"`` with ``title``, ``prefix`` and ``suffix`` for a syndicated copy (the original's
text between the copy's own boilerplate).
"""

from __future__ import annotations

import random
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from tracker.config.stories import StoryRules
from tracker.errors import ConfigError
from tracker.models import Article
from tracker.store import Store
from tracker.store.stories import leads, placements
from tracker.stories.place import place_pending
from tracker.stories.rebuild import rebuild
from tracker.tagging.evaluate import Score
from tracker.tagging.tagger import Tagger
from tracker.urls import article_id


@dataclass(frozen=True)
class Labelled:
    id: str
    story: str
    article: Article


def load_labelled(directory: Path) -> list[Labelled]:
    """Every labelled article in ``directory`` (``*.toml``), copies expanded.

    Raises:
        ConfigError: a file is not valid TOML, or a copy names an unknown original.
    """
    raw: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        for item in data.get("article", []):
            raw[item["id"]] = item
    out = []
    for item in raw.values():
        if "copy_of" in item:
            original = raw.get(item["copy_of"])
            if original is None:
                raise ConfigError(f"{item['id']}: copy_of names unknown article {item['copy_of']}")
            text = "\n".join(
                p for p in (item.get("prefix"), original["text"], item.get("suffix")) if p
            )
            item = {**original, **item, "text": text}
        fields = {"document_number": item["document_number"]} if "document_number" in item else {}
        article = Article(
            url=item["url"],
            source=item["source"],
            title=item["title"],
            text=item["text"],
            published_at=datetime.fromisoformat(item["published"]),
            lang=item.get("lang"),
            extracted=True,
            fields=fields,
        )
        out.append(Labelled(item["id"], item["story"], article))
    return out


@dataclass
class StoryScore(Score):
    """Pairwise: a pair of articles is a true positive when both the labels and the placement put
    them in one story."""

    articles: int = 0
    stories: int = 0
    false_pairs: list[tuple[str, str]] = field(default_factory=list)
    missed_pairs: list[tuple[str, str]] = field(default_factory=list)
    wrong_leads: list[str] = field(default_factory=list)  # stories whose official doc is not lead


def evaluate(
    labelled: list[Labelled],
    store: Store,
    tagger: Tagger,
    rules: StoryRules,
    *,
    now: datetime,
    mode: str = "incremental",
    seed: int | None = None,
) -> StoryScore:
    """Save the articles into an empty ``store``, place them, and score every pair.

    Args:
        mode: ``incremental`` places each source's batch as it is saved (sources in a shuffled
            order when ``seed`` is given, as fetches finish in any order); ``rebuild`` saves all,
            then rebuilds.
    """
    by_source: dict[str, list[Labelled]] = defaultdict(list)
    for item in labelled:
        by_source[item.article.source].append(item)
    order = sorted(by_source)
    if seed is not None:
        random.Random(seed).shuffle(order)
    for source in order:
        batch = [
            (i.article, tagger.tag(i.article.title, i.article.text, i.article.lang))
            for i in by_source[source]
        ]
        store.save_batch(source, batch, now=now)
        if mode == "incremental":
            place_pending(store, rules, now=now)
    if mode == "rebuild":
        rebuild(store, rules, now=now)
    return score(labelled, store)


def score(labelled: list[Labelled], store: Store) -> StoryScore:
    ids = {article_id(i.article.url): i for i in labelled}
    placed = {aid: story for aid, story in placements(store).items() if aid in ids}
    result = StoryScore(articles=len(labelled), stories=len(set(placed.values())))
    for a, b in combinations(sorted(ids), 2):
        same_truth = ids[a].story == ids[b].story
        same_found = placed.get(a) is not None and placed.get(a) == placed.get(b)
        pair = tuple(sorted((ids[a].id, ids[b].id)))
        if same_truth and same_found:
            result.tp += 1
        elif same_found:
            result.fp += 1
            result.false_pairs.append((pair[0], pair[1]))
        elif same_truth:
            result.fn += 1
            result.missed_pairs.append((pair[0], pair[1]))
    lead_of = leads(store)
    for aid, item in ids.items():
        if item.article.fields.get("document_number") or "mofcom.gov.cn" in item.article.url:
            story = placed.get(aid)
            if story is not None and lead_of.get(story) != aid:
                result.wrong_leads.append(item.id)
    return result
