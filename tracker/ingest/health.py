"""Source health policy: exponential backoff after failures, 410 Gone, staleness.

Feeds die silently and sites block for hours; a source that fails is tried again later, ever
later, but never given up on (except on 410 Gone, which says the feed was removed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_BACKOFF = timedelta(minutes=15)
MAX_BACKOFF = timedelta(days=1)
STALE_AFTER = timedelta(days=14)


def next_attempt(failures: int, now: datetime, retry_after: float | None = None) -> datetime:
    """When to try a source again after ``failures`` failures in a row (1 = the first).

    15 minutes, doubling each time, capped at one day; a server's Retry-After (429/503) wins when
    it asks for longer.
    """
    delay = min(FIRST_BACKOFF * (1 << min(max(failures - 1, 0), 12)), MAX_BACKOFF)
    if retry_after is not None:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_BACKOFF))
    return now + delay


def gone_reason(now: datetime) -> str:
    return (
        f"HTTP 410 Gone on {now.date().isoformat()}: the feed was removed; fix its URL in "
        "tracker.toml, then run 'tracker sources enable NAME'"
    )


def is_stale(last_new_at: str | None, added_at: str | None, now: datetime) -> bool:
    """True when a source has produced nothing new for 14 days (or since it was added)."""
    since = last_new_at or added_at
    return since is not None and now - datetime.fromisoformat(since) > STALE_AFTER
