"""Re-apply the vocabulary to every stored article: after a vocabulary change or an upgrade."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracker.store import Store
from tracker.tagging.tagger import Tagger, relevance


@dataclass
class RetagReport:
    articles: int = 0
    changed: int = 0  # articles whose tags, counts or relevance changed


def run_retag(
    store: Store,
    tagger: Tagger,
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> RetagReport:
    """Tag every article again, one transaction per batch; running it twice changes nothing.

    Args:
        progress: called with (done, total) after each batch.
    """
    weights = tagger.weights()
    total = store.count()
    report = RetagReport()
    for rows in store.iter_articles(batch):
        before = store.tags_for([r["id"] for r in rows])
        results = []
        for row in rows:
            hits = tagger.tag(row["title"] or "", row["text"] or "", row["lang"])
            score = relevance(hits, weights)
            old = {
                (t["kind"], t["slug"], t["count"], t["in_title"]) for t in before.get(row["id"], [])
            }
            new = {(h.kind, h.slug, h.count, h.in_title) for h in hits}
            if old != new or row["relevance"] != score:
                results.append((row["id"], hits, score))
        store.save_retag(results)
        report.articles += len(rows)
        report.changed += len(results)
        if progress is not None:
            progress(report.articles, total)
    return report
