"""Tag counts over time: per period against the period before, and series for sparklines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tracker.store import Store, iso

SPARKS = "▁▂▃▄▅▆▇█"
MOMENT = "COALESCE(a.published_at, a.first_seen_at)"


@dataclass
class TagCount:
    tag: str
    name: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous

    def as_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "name": self.name,
            "count": self.count,
            "previous": self.previous,
            "change": self.change,
        }


def tag_counts(
    store: Store, since: datetime, now: datetime, kind: str | None = None
) -> list[TagCount]:
    """Articles per tag from ``since`` to ``now``, and in the period of equal length before it."""
    before = since - (now - since)
    sql = f"""
        SELECT t.id, t.name,
               sum({MOMENT} >= :since AND {MOMENT} <= :now) AS count,
               sum({MOMENT} >= :before AND {MOMENT} < :since) AS previous
        FROM article_tags at JOIN tags t ON t.id = at.tag_id JOIN articles a ON a.id = at.article_id
        WHERE {MOMENT} >= :before AND (:kind IS NULL OR t.kind = :kind)
        GROUP BY t.id
    """
    params = {"since": iso(since), "now": iso(now), "before": iso(before), "kind": kind}
    rows = [
        TagCount(r["id"], r["name"], r["count"] or 0, r["previous"] or 0)
        for r in store.db.query(sql, params)
    ]
    return sorted((r for r in rows if r.count or r.previous), key=lambda r: (-r.count, r.tag))


def tag_series(
    store: Store, tags: list[str], since: datetime, now: datetime, by: str = "day"
) -> dict[str, list[tuple[str, int]]]:
    """Per tag, the number of articles in each day (or ISO week, labelled by its Monday)."""
    periods = _periods(since.date(), now.date(), by)
    series: dict[str, list[tuple[str, int]]] = {}
    for tag in tags:
        sql = f"""
            SELECT substr({MOMENT}, 1, 10) AS day, count(*) AS n
            FROM article_tags at JOIN articles a ON a.id = at.article_id
            WHERE at.tag_id = ? AND {MOMENT} >= ? AND {MOMENT} <= ? GROUP BY day
        """
        counts: Counter[str] = Counter()
        for row in store.db.query(sql, [tag, iso(since), iso(now)]):
            counts[_period_of(date.fromisoformat(row["day"]), by)] += row["n"]
        series[tag] = [(p, counts.get(p, 0)) for p in periods]
    return series


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled to the largest (all zero: the lowest block)."""
    top = max(values, default=0)
    if top == 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, round(v / top * (len(SPARKS) - 1)))] for v in values)


def _period_of(day: date, by: str) -> str:
    return (day - timedelta(days=day.weekday())).isoformat() if by == "week" else day.isoformat()


def _periods(first: date, last: date, by: str) -> list[str]:
    step = timedelta(days=7 if by == "week" else 1)
    current = date.fromisoformat(_period_of(first, by))
    out = []
    while current <= last:
        out.append(current.isoformat())
        current += step
    return out
