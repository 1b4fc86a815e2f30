"""SQL of the tag tables (``tags``, ``article_tags``) read as a whole: counts and time series.

An article's own tags are written and read with the article (:mod:`tracker.store.core`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracker.store.connection import iso, moment
from tracker.store.core import Store


def tag_ids(store: Store) -> set[str]:
    """Every tag some stored article carries (or once carried)."""
    return {r[0] for r in store.db.execute("SELECT id FROM tags")}


def article_counts(store: Store) -> dict[str, int]:
    """Articles per tag, most first (ties by tag)."""
    sql = "SELECT tag_id, count(*) FROM article_tags GROUP BY tag_id ORDER BY 2 DESC, tag_id"
    return {r[0]: r[1] for r in store.db.execute(sql)}


def period_counts(
    store: Store, before: datetime, since: datetime, now: datetime, kind: str | None
) -> list[dict[str, Any]]:
    """Per tag (of ``kind``): articles from ``since`` to ``now``, and from ``before`` to ``since``."""
    at = moment("a")
    sql = f"""
        SELECT t.id, t.name,
               sum({at} >= :since AND {at} <= :now) AS count,
               sum({at} >= :before AND {at} < :since) AS previous
        FROM article_tags at JOIN tags t ON t.id = at.tag_id JOIN articles a ON a.id = at.article_id
        WHERE {at} >= :before AND (:kind IS NULL OR t.kind = :kind)
        GROUP BY t.id
    """
    params = {"since": iso(since), "now": iso(now), "before": iso(before), "kind": kind}
    return list(store.db.query(sql, params))


def daily_counts(store: Store, tag: str, since: datetime, now: datetime) -> dict[str, int]:
    """Articles with ``tag`` per day (``YYYY-MM-DD``) from ``since`` to ``now``."""
    at = moment("a")
    sql = f"""
        SELECT substr({at}, 1, 10) AS day, count(*) AS n
        FROM article_tags at JOIN articles a ON a.id = at.article_id
        WHERE at.tag_id = ? AND {at} >= ? AND {at} <= ? GROUP BY day
    """
    return {r[0]: r[1] for r in store.db.execute(sql, [tag, iso(since), iso(now)])}
