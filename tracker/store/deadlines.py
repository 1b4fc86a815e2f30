"""SQL of deadlines: the official documents whose dates matter, and suspensions with an end."""

from __future__ import annotations

import json
from typing import Any

from tracker.store.connection import moment
from tracker.store.core import Store


def dated_documents(store: Store) -> list[dict[str, Any]]:
    """Every stored official document (it has a document number): its date fields, its
    ``dates`` text, and for a Chinese notice its text (its dates are written there)."""
    sql = (
        "SELECT a.id, a.title, a.url, a.lang, a.source, a.story_id, a.document_number, "
        "a.citation, a.action, a.doc_type, a.effective_on, a.comments_close_on, a.dates, "
        "a.correction_of, "
        f"{moment('a')} AS published, "
        "CASE WHEN a.lang LIKE 'zh%' THEN coalesce(a.text, '') ELSE '' END AS notice_text "
        "FROM articles a WHERE a.document_number IS NOT NULL"
    )
    return list(store.db.query(sql))


def suspensions(store: Store) -> list[dict[str, Any]]:
    """List events that run until a date (a notice suspending another), with the document
    that made them when it is stored."""
    sql = (
        "SELECT e.list_code, e.entry_id, e.name, e.event, e.citation, e.document, e.changed, "
        "a.id AS article_id, a.title, a.url, a.lang, a.story_id FROM list_events e "
        "LEFT JOIN articles a ON a.document_number = e.document "
        "WHERE e.changed LIKE '%until %'"
    )
    rows = list(store.db.query(sql))
    for row in rows:
        row["changed"] = json.loads(row["changed"] or "[]")
    return rows
