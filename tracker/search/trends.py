"""Tag counts over time: per period against the period before, and series for sparklines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tracker.store import Store
from tracker.store.tags import daily_counts, period_counts

SPARKS = "▁▂▃▄▅▆▇█"


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
    rows = [
        TagCount(r["id"], r["name"], r["count"] or 0, r["previous"] or 0)
        for r in period_counts(store, before, since, now, kind)
    ]
    return sorted((r for r in rows if r.count or r.previous), key=lambda r: (-r.count, r.tag))


def tag_series(
    store: Store, tags: list[str], since: datetime, now: datetime, by: str = "day"
) -> dict[str, list[tuple[str, int]]]:
    """Per tag, the number of articles in each day (or ISO week, labelled by its Monday)."""
    periods = _periods(since.date(), now.date(), by)
    series: dict[str, list[tuple[str, int]]] = {}
    for tag in tags:
        counts: Counter[str] = Counter()
        for day, n in daily_counts(store, tag, since, now).items():
            counts[_period_of(date.fromisoformat(day), by)] += n
        series[tag] = [(p, counts.get(p, 0)) for p in periods]
    return series


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled to the largest (all zero: the lowest block)."""
    top = max(values, default=0)
    if top == 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, round(v / top * (len(SPARKS) - 1)))] for v in values)


def squeeze(values: list[int], periods: list[str], width: int) -> tuple[list[int], list[str], int]:
    """At most ``width`` points: adjacent periods summed in equal runs (each named by its first
    period), so a 90-day sparkline fits an 80-column terminal; also returns the run's length."""
    if width < 1 or len(values) <= width:
        return values, periods, 1
    run = -(-len(values) // width)  # ceil
    return [sum(values[i : i + run]) for i in range(0, len(values), run)], periods[::run], run


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
