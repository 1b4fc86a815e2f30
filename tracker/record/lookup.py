"""An entity looked up by any of its names: what ``tracker entity`` prints and the web reader's
entity page shows (one lookup, so a shared link and the command agree)."""

from __future__ import annotations

from typing import Any

from tracker.errors import QueryError
from tracker.record.names import name_keys
from tracker.store import Store
from tracker.store import entities as db
from tracker.tagging.tagger import Tagger


def look_up(store: Store, tagger: Tagger, query: str, articles: int) -> list[dict[str, Any]]:
    """Entities whose id or any name (lists, vocabulary aliases, rules' aliases; any script)
    matches ``query``, each with its names, list entries (events included) and up to
    ``articles`` latest articles per language, newest first.

    Raises:
        QueryError: the query is too short to match a name on its own.
    """
    query = query.strip()
    names = [query]
    tags = [t for t in tagger.lookup(query) if t.startswith("company:")]
    for e in tagger.entries:
        if e.tag_id in tags:
            names += [e.name, *e.aliases, *e.cased]
    keys = name_keys(names)
    found = db.find_entities(store, query.lower(), keys)
    if not found and tags:
        found = db.find_entities(store, tags[0], [])
    if not found and not keys:
        raise QueryError(
            f"{query!r} is too short to match a name on its own; give more of the name"
        )
    out = []
    for ent in found:
        ids: list[str] = []
        for lang in ("en", "zh"):
            ids += db.entity_article_ids(store, ent["id"], ent["tag"], articles, lang)
        latest = sorted(db.article_briefs(store, ids), key=lambda r: r["at"] or "", reverse=True)
        out.append(
            {
                **ent,
                "names": sorted(db.entity_keys(store, ent["id"])),
                "entries": db.entity_entries(store, ent["id"]),
                "articles": latest if articles else [],
            }
        )
    return out
