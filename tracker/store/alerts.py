"""SQL of alerts: how far each recipient's alerts have looked, and what each was sent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tracker.store.connection import iso
from tracker.store.core import Store


def marks(store: Store, email: str) -> tuple[datetime, int] | None:
    """(articles first seen after, list events after) for ``email``; None before its first run."""
    row = store.db.execute(
        "SELECT checked_at, last_event_id FROM alert_marks WHERE email = ?", [email]
    ).fetchone()
    return None if row is None else (datetime.fromisoformat(row[0]), int(row[1] or 0))


def last_event_id(store: Store) -> int:
    return int(store.db.execute("SELECT coalesce(max(id), 0) FROM list_events").fetchone()[0])


def set_marks(store: Store, email: str, checked_at: datetime, event_id: int) -> None:
    with store.db.atomic():
        store.db.execute(
            "INSERT INTO alert_marks (email, checked_at, last_event_id) VALUES (?, ?, ?) "
            "ON CONFLICT (email) DO UPDATE SET checked_at = excluded.checked_at, "
            "last_event_id = excluded.last_event_id",
            [email, iso(checked_at), event_id],
        )


def entity_events(store: Store, entity_ids: list[str], after: int) -> list[dict[str, Any]]:
    """List events after id ``after`` on the entries of these entities, oldest first, with the
    stored article of the document that made each (when there is one)."""
    if not entity_ids:
        return []
    marks_ = ",".join("?" * len(entity_ids))
    sql = (
        "SELECT e.id, e.list_code, e.entry_id, e.name, e.event, e.citation, e.document, "
        "m.entity_id, (SELECT a.url FROM articles a WHERE a.document_number = e.document "
        "LIMIT 1) AS url FROM list_events e JOIN entity_members m "
        "ON m.list_code = e.list_code AND m.entry_id = e.entry_id "
        f"WHERE e.id > ? AND m.entity_id IN ({marks_}) ORDER BY e.id"
    )
    return list(store.db.query(sql, [after, *entity_ids]))


def sent_keys(store: Store, email: str, keys: Iterable[str]) -> set[str]:
    wanted = list(keys)
    if not wanted:
        return set()
    marks_ = ",".join("?" * len(wanted))
    sql = f"SELECT key FROM alert_sends WHERE email = ? AND key IN ({marks_})"
    return {r[0] for r in store.db.execute(sql, [email, *wanted])}


def record_sent(
    store: Store, email: str, sent: Iterable[tuple[str, str]], subject: str, now: datetime
) -> None:
    """The alerts (key, title) a mail server accepted for ``email``: never mailed again."""
    with store.db.atomic():
        store.db.executemany(
            "INSERT OR IGNORE INTO alert_sends (email, key, sent_at, subject, title) "
            "VALUES (?, ?, ?, ?, ?)",
            [(email, key, iso(now), subject, title) for key, title in sent],
        )


def hooked_keys(store: Store, email: str, url: str, keys: Iterable[str]) -> set[str]:
    wanted = list(keys)
    if not wanted:
        return set()
    marks_ = ",".join("?" * len(wanted))
    sql = f"SELECT key FROM alert_hooks WHERE email = ? AND url = ? AND key IN ({marks_})"
    return {r[0] for r in store.db.execute(sql, [email, url, *wanted])}


def record_hooked(store: Store, email: str, url: str, keys: Iterable[str], now: datetime) -> None:
    """The alerts a webhook answered 2xx to: never POSTed again."""
    with store.db.atomic():
        store.db.executemany(
            "INSERT OR IGNORE INTO alert_hooks (email, key, url, sent_at) VALUES (?, ?, ?, ?)",
            [(email, key, url, iso(now)) for key in keys],
        )


def alerts_sent(store: Store, since: datetime) -> list[dict[str, Any]]:
    sql = (
        "SELECT sent_at, email, subject, key, title FROM alert_sends WHERE sent_at >= ? "
        "ORDER BY sent_at DESC, email, key"
    )
    return list(store.db.query(sql, [iso(since)]))


def alerted_articles(store: Store, email: str) -> set[str]:
    """The articles ever alerted to ``email`` (the digest lists them apart, not as new)."""
    sql = "SELECT substr(key, 9) FROM alert_sends WHERE email = ? AND key LIKE 'article:%'"
    return {r[0] for r in store.db.execute(sql, [email])}
