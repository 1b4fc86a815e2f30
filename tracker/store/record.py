"""SQL of the official record: list entries, their events, and snapshots (``tracker.record``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tracker.store.connection import iso
from tracker.store.core import Store

ENTRY_FIELDS = (
    "name",
    "alt_names",
    "type",
    "addresses",
    "countries",
    "citation",
    "start_date",
    "end_date",
    "license_requirement",
    "license_policy",
    "remarks",
    "source_url",
    "fingerprint",
)


def current_entries(store: Store, lists: Iterable[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """The entries now on ``lists`` (not removed), keyed (list, id), arrays decoded."""
    codes = list(lists)
    if not codes:
        return {}
    marks = ",".join("?" * len(codes))
    # A rule's provisional entries (fr:...) are not the file's: they wait for it to catch up.
    sql = (
        "SELECT * FROM list_entries WHERE removed_at IS NULL AND entry_id NOT LIKE 'fr:%' "
        f"AND list_code IN ({marks})"
    )
    out = {}
    for row in store.db.query(sql, codes):
        row["alt_names"] = json.loads(row["alt_names"] or "[]")
        row["countries"] = json.loads(row["countries"] or "[]")
        out[(row["list_code"], row["entry_id"])] = row
    return out


def apply_snapshot(
    store: Store,
    source: str,
    entries: Iterable[Mapping[str, Any]],
    changes: Iterable[Mapping[str, Any]],
    now: datetime,
    validators: tuple[str, str | None, str | None] | None = None,
    seen_lists: Iterable[str] = (),
) -> None:
    """Record a snapshot in one transaction: the new and revised entries written, every entry
    of ``seen_lists`` still on them marked seen now, each change as an event, the removed
    entries marked, and the file's validators (so an unchanged list costs a 304)."""
    at = iso(now)
    codes = list(seen_lists)
    with store.db.atomic():
        if codes:
            store.db.execute(
                "UPDATE list_entries SET last_seen_at = ? WHERE source = ? AND removed_at IS NULL "
                f"AND list_code IN ({','.join('?' * len(codes))})",
                [at, source, *codes],
            )
        for e in entries:
            values = [
                json.dumps(e[f], ensure_ascii=False) if f in ("alt_names", "countries") else e[f]
                for f in ENTRY_FIELDS
            ]
            store.db.execute(
                f"INSERT INTO list_entries (list_code, entry_id, {', '.join(ENTRY_FIELDS)}, source, "
                f"first_seen_at, last_seen_at, removed_at) VALUES (?, ?, {', '.join('?' * len(ENTRY_FIELDS))}, "
                "?, ?, ?, NULL) ON CONFLICT (list_code, entry_id) DO UPDATE SET "
                + ", ".join(f"{f} = excluded.{f}" for f in ENTRY_FIELDS)
                + ", source = excluded.source, last_seen_at = excluded.last_seen_at, removed_at = NULL",
                [e["list_code"], e["entry_id"], *values, source, at, at],
            )
            store.db.execute(
                "DELETE FROM list_names WHERE list_code = ? AND entry_id = ?",
                [e["list_code"], e["entry_id"]],
            )
            for key in e.get("keys", ()):
                store.db.execute(
                    "INSERT OR IGNORE INTO list_names (key, list_code, entry_id) VALUES (?, ?, ?)",
                    [key, e["list_code"], e["entry_id"]],
                )
        n = 0
        for c in changes:
            n += 1
            event = _caught_up(store, c)
            store.db.execute(
                "INSERT INTO list_events (list_code, entry_id, name, event, at, citation, changed, "
                "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    c["list_code"],
                    c["entry_id"],
                    c["name"],
                    event,
                    at,
                    c["citation"],
                    json.dumps(c["changed"]) if c["changed"] else None,
                    source,
                ],
            )
            if c["event"] == "removed":
                store.db.execute(
                    "UPDATE list_entries SET removed_at = ? WHERE list_code = ? AND entry_id = ?",
                    [at, c["list_code"], c["entry_id"]],
                )
        store.db.execute(
            "INSERT INTO list_snapshots (source, fetched_at, entries, changes) "
            "VALUES (?, ?, (SELECT count(*) FROM list_entries WHERE source = ? AND removed_at IS NULL), ?)",
            [source, at, source, n],
        )
        if validators is not None:
            store.save_validators(*validators, now=now)


def _caught_up(store: Store, change: Mapping[str, Any]) -> str:
    """The event a snapshot's change is: "confirmed" when a Federal Register rule already made
    it (the file catching up with a rule read days before), else the change itself. A rule's
    provisional entry gives way to the file's: its events move to the file's entry."""
    code, entry_id, event = change["list_code"], change["entry_id"], str(change["event"])
    db = store.db
    if event == "added":
        keys = list(change.get("keys") or ())
        if not keys:
            return event
        marks = ",".join("?" * len(keys))
        row = db.execute(
            "SELECT e.entry_id FROM list_names n JOIN list_entries e ON e.list_code = n.list_code "
            "AND e.entry_id = n.entry_id WHERE e.list_code = ? AND e.entry_id LIKE 'fr:%' "
            f"AND e.superseded_by IS NULL AND n.key IN ({marks}) LIMIT 1",
            [code, *keys],
        ).fetchone()
        if row is None:
            return event
        db.execute(
            "UPDATE list_entries SET superseded_by = ? WHERE list_code = ? AND entry_id = ?",
            [entry_id, code, row[0]],
        )
        db.execute(
            "UPDATE list_events SET entry_id = ? WHERE list_code = ? AND entry_id = ?",
            [entry_id, code, row[0]],
        )
        return "confirmed"
    ruled = db.execute(
        "SELECT 1 FROM list_events WHERE list_code = ? AND entry_id = ? AND event = ? "
        "AND document IS NOT NULL AND id > coalesce((SELECT max(id) FROM list_events "
        "WHERE list_code = ? AND entry_id = ? AND document IS NULL), 0)",
        [code, entry_id, event, code, entry_id],
    ).fetchone()
    return "confirmed" if ruled else event


def rule_read(store: Store, document_number: str) -> bool:
    """Whether a rule's entries were already read (understood or not)."""
    row = store.db.execute(
        "SELECT 1 FROM list_rules WHERE document_number = ?", [document_number]
    ).fetchone()
    return row is not None


def apply_rule(
    store: Store,
    source: str,
    document: Mapping[str, str],
    entries: Iterable[Mapping[str, Any]],
    problems: list[str],
    now: datetime,
) -> dict[str, int]:
    """Record what an Entity List rule did, on the day it is read, in one transaction.

    ``document``: document_number, citation, published. Each entry: action, name, aliases,
    keys, country, address, license_requirement, license_policy, citation. An addition makes a
    provisional entry (``fr:<name>``) until the screening list carries it; a revision or removal
    is an event on the entry already kept under one of its names (or on the name alone).
    """
    at = iso(now) or ""
    counts = {"added": 0, "revised": 0, "removed": 0}
    doc = document["document_number"]
    db = store.db
    with db.atomic():
        for e in entries:
            keys = list(e["keys"])
            existing = _entry_by_keys(store, "EL", keys)
            entry_id = existing or f"fr:{keys[0] if keys else e['name'].lower()}"
            if e["action"] == "added" and existing is None:
                db.execute(
                    "INSERT OR IGNORE INTO list_entries (list_code, entry_id, name, alt_names, "
                    "type, addresses, countries, citation, start_date, end_date, "
                    "license_requirement, license_policy, remarks, source_url, fingerprint, "
                    "source, first_seen_at, last_seen_at) "
                    "VALUES ('EL', ?, ?, ?, 'Entity', ?, ?, ?, ?, '', ?, ?, ?, '', '', ?, ?, ?)",
                    [
                        entry_id,
                        e["name"],
                        json.dumps(list(e["aliases"]), ensure_ascii=False),
                        e["address"],
                        json.dumps([e["country"]] if e["country"] else [], ensure_ascii=False),
                        e["citation"],
                        document.get("published") or at[:10],
                        e["license_requirement"],
                        e["license_policy"],
                        f"read from Federal Register document {doc}",
                        source,
                        at,
                        at,
                    ],
                )
                db.executemany(
                    "INSERT OR IGNORE INTO list_names (key, list_code, entry_id) VALUES (?, 'EL', ?)",
                    [(k, entry_id) for k in keys],
                )
            db.execute(
                "INSERT INTO list_events (list_code, entry_id, name, event, at, citation, "
                "changed, source, document) VALUES ('EL', ?, ?, ?, ?, ?, NULL, ?, ?)",
                [entry_id, e["name"], e["action"], at, document["citation"], source, doc],
            )
            counts[e["action"]] += 1
        record_read(store, document, source, counts, problems, now)  # in the same transaction
    return counts


def _entry_by_keys(store: Store, code: str, keys: list[str]) -> str | None:
    if not keys:
        return None
    marks = ",".join("?" * len(keys))
    row = store.db.execute(
        "SELECT e.entry_id FROM list_names n JOIN list_entries e ON e.list_code = n.list_code "
        "AND e.entry_id = n.entry_id WHERE e.list_code = ? AND e.superseded_by IS NULL "
        f"AND n.key IN ({marks}) ORDER BY e.removed_at IS NOT NULL, e.entry_id LIKE 'fr:%' "
        "LIMIT 1",
        [code, *keys],
    ).fetchone()
    return None if row is None else str(row[0])


def list_rules(store: Store, since: datetime | None = None) -> list[dict[str, Any]]:
    """Entity List rules read, newest first."""
    sql = "SELECT * FROM list_rules"
    params: list[Any] = []
    if since is not None:
        sql += " WHERE read_at >= ?"
        params.append(iso(since))
    return list(store.db.query(sql + " ORDER BY published DESC, document_number DESC", params))


def list_counts(store: Store) -> list[dict[str, Any]]:
    """Per list: entries on it, entries removed, the last snapshot and the last event."""
    sql = """
        SELECT e.list_code,
               sum(e.removed_at IS NULL) AS entries,
               sum(e.removed_at IS NOT NULL) AS removed,
               max(e.last_seen_at) AS last_seen,
               (SELECT max(at) FROM list_events v WHERE v.list_code = e.list_code) AS last_change
        FROM list_entries e GROUP BY e.list_code ORDER BY e.list_code
    """
    return list(store.db.query(sql))


def list_events(
    store: Store, since: datetime | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """List events, newest first."""
    sql = (
        "SELECT list_code, entry_id, name, event, at, citation, document, changed, source "
        "FROM list_events"
    )
    params: list[Any] = []
    if since is not None:
        sql += " WHERE at >= ?"
        params.append(iso(since))
    sql += " ORDER BY at DESC, id DESC LIMIT ?"
    rows = list(store.db.query(sql, [*params, limit]))
    for row in rows:
        row["changed"] = json.loads(row["changed"]) if row["changed"] else []
    return rows


def known_documents(store: Store, numbers: list[str]) -> set[str]:
    """Which document numbers (a MOFCOM notice's key) are stored already, under any URL."""
    if not numbers:
        return set()
    marks = ",".join("?" * len(numbers))
    sql = f"SELECT document_number FROM articles WHERE document_number IN ({marks})"
    return {r[0] for r in store.db.execute(sql, numbers)}


def apply_notice(
    store: Store,
    source: str,
    notice: Mapping[str, Any],
    entities: Iterable[Mapping[str, Any]],
    now: datetime,
) -> int:
    """Record what a MOFCOM designation did to its list, in one transaction; returns the events.

    ``notice``: key, label, list_code, action, published, until, targets (keys and labels).
    Each entity: name (English, else Chinese), names, keys. A listing makes an entry
    ``mofcom:<name>``; a removal, suspension or restoration is an event on the entry kept under
    one of its names. A notice that changes another notice (2025 No. 72 suspending a clause of
    2024 No. 46) is an event on that notice, with the date it runs until.
    """
    at = iso(now) or ""
    code, action, key = notice["list_code"], notice["action"], notice["key"]
    changed = json.dumps([f"until {notice['until']}"]) if notice.get("until") else None
    db = store.db
    n = 0
    with db.atomic():
        for e in entities if code else ():
            keys = list(e["keys"])
            existing = _entry_by_keys(store, code, keys)
            entry_id = existing or f"mofcom:{keys[0] if keys else e['name']}"
            if action == "added" and existing is None:
                db.execute(
                    "INSERT OR IGNORE INTO list_entries (list_code, entry_id, name, alt_names, "
                    "type, addresses, countries, citation, start_date, end_date, "
                    "license_requirement, license_policy, remarks, source_url, fingerprint, "
                    "source, first_seen_at, last_seen_at) "
                    "VALUES (?, ?, ?, ?, 'Entity', '', '[]', ?, ?, '', '', '', '', ?, '', ?, ?, ?)",
                    [
                        code,
                        entry_id,
                        e["name"],
                        json.dumps(list(e["names"]), ensure_ascii=False),
                        notice["label"],
                        notice.get("published") or at[:10],
                        notice.get("url") or "",
                        source,
                        at,
                        at,
                    ],
                )
                db.executemany(
                    "INSERT OR IGNORE INTO list_names (key, list_code, entry_id) VALUES (?, ?, ?)",
                    [(k, code, entry_id) for k in keys],
                )
            if action == "removed":
                db.execute(
                    "UPDATE list_entries SET removed_at = ? WHERE list_code = ? AND entry_id = ?",
                    [at, code, entry_id],
                )
            elif action == "restored":
                db.execute(
                    "UPDATE list_entries SET removed_at = NULL WHERE list_code = ? AND entry_id = ?",
                    [code, entry_id],
                )
            db.execute(
                "INSERT INTO list_events (list_code, entry_id, name, event, at, citation, "
                "changed, source, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [code, entry_id, e["name"], action, at, notice["label"], changed, source, key],
            )
            n += 1
        if not code and action in ("suspended", "restored", "removed", "revised"):
            for target_key, target_label in notice.get("targets", ()):
                db.execute(
                    "INSERT INTO list_events (list_code, entry_id, name, event, at, citation, "
                    "changed, source, document) VALUES ('MOFCOM', ?, ?, ?, ?, ?, ?, ?, ?)",
                    [target_key, target_label, action, at, notice["label"], changed, source, key],
                )
                n += 1
        counts = {
            "added": n if action == "added" else 0,
            "removed": n if action == "removed" else 0,
        }
        counts["revised"] = n - counts["added"] - counts["removed"]
        record_read(
            store,
            {
                "document_number": key,
                "citation": notice["label"],
                "published": notice.get("published") or "",
            },
            source,
            counts,
            list(notice.get("problems") or ()),
            now,
        )
    return n


def record_read(
    store: Store,
    document: Mapping[str, str],
    source: str,
    counts: Mapping[str, int],
    problems: list[str],
    now: datetime,
) -> None:
    """Note that a document (a rule, a notice) was read for list changes, understood or not,
    so it is not read again; ``tracker lists rules`` shows it."""
    with store.db.atomic():
        store.db.execute(
            "INSERT OR REPLACE INTO list_rules (document_number, citation, published, source, "
            "status, added, revised, removed, problem, read_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                document["document_number"],
                document["citation"],
                document.get("published"),
                source,
                "not-understood" if problems else "parsed",
                counts.get("added", 0),
                counts.get("revised", 0),
                counts.get("removed", 0),
                "; ".join(problems) or None,
                iso(now),
            ],
        )
