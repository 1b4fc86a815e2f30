"""Keeping entities and article links current, after each fetch (and ``tracker entity --relink``).

Two directions, both incremental. New articles are read once with every list name
(:class:`tracker.record.link.NameMatcher`). New list names (a rule's additions, a new snapshot) are
looked for in the articles already stored through the full-text index, one phrase each, and only
the articles it returns are read; when a list arrives with more new names than
:data:`FULL_SCAN_KEYS` (a first snapshot), reading every article once is cheaper. Progress is
committed as it goes: an interrupted link starts again where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tracker.record.entities import Company, NamedEntry, build_entities, load_known_names
from tracker.record.link import NameMatcher, usable
from tracker.store import Store
from tracker.store import entities as db

FULL_SCAN_KEYS = 2_000  # new names above which every stored article is read instead


@dataclass
class LinkReport:
    entities: int = 0
    rebuilt: bool = False
    new_names: int = 0
    articles_read: int = 0
    mentions: int = 0
    seconds: float = 0.0


def companies_of(entries: Iterable[object]) -> list[Company]:
    """The vocabulary's companies (``tagging.vocabulary.Entry`` of kind company)."""
    out = []
    for e in entries:
        if getattr(e, "kind", None) == "company":
            aliases = (*getattr(e, "aliases", ()), *getattr(e, "cased", ()))
            out.append(Company(e.slug, e.name, tuple(aliases)))  # type: ignore[attr-defined]
    return out


def refresh_entities(store: Store, companies: list[Company]) -> tuple[bool, int]:
    """Rebuild the entities when a list or the vocabulary changed. (rebuilt?, how many)"""
    known = load_known_names()
    vocab = hashlib.sha1(
        json.dumps(
            [[(c.slug, c.name, c.aliases) for c in companies], [(k.id, k.names) for k in known]],
            ensure_ascii=False,
        ).encode()
    ).hexdigest()[:12]
    basis = f"{db.record_basis(store)}:{vocab}"
    if db.state(store, db.ENTITIES_BASIS) == basis:
        return False, db.entity_count(store)
    entries = [
        NamedEntry(
            r["list_code"], r["entry_id"], r["name"], r["alt_names"], r["remarks"] or "", r["keys"]
        )
        for r in db.named_entries(store)
    ]
    entities = build_entities(companies, entries, known)
    db.replace_entities(store, entities, basis)
    return True, len(entities)


def link_articles(
    store: Store,
    companies: list[Company],
    *,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> LinkReport:
    """Bring entities and article mentions up to date; see the module's docstring."""
    started = time.perf_counter()
    report = LinkReport()
    report.rebuilt, report.entities = refresh_entities(store, companies)
    new_keys = db.unlinked_keys(store)
    upto = int(db.state(store, db.LINKED_UPTO) or 0)
    top = db.last_rowid(store)
    searched = [k for k in new_keys if usable(k)]
    report.new_names = len(searched)
    queued = db.queued_texts(store)
    if not searched and upto >= top and not queued:
        report.seconds = time.perf_counter() - started
        return report
    matcher = NameMatcher(db.match_keys(store))
    if not matcher.size:  # no list kept yet: nothing to find, nothing to read
        db.save_links(store, [], keys_done=new_keys, upto=top, dequeued=[r[1] for r in queued])
        report.seconds = time.perf_counter() - started
        return report

    def read(
        rows: list[tuple[int, str, str, str, str]], only: set[str] | None
    ) -> list[tuple[str, str, str]]:
        found = []
        for _rowid, aid, title, text, at in rows:
            keys = matcher.find(title, text)
            found += [(aid, k, at) for k in (keys & only if only is not None else keys)]
        report.articles_read += len(rows)
        report.mentions += len(found)
        return found

    total = (upto if searched else 0) + (top - upto)
    done = 0
    # 1. Names new to the store, in the articles read before they existed.
    if searched and upto:
        wanted = set(searched)
        if len(searched) > FULL_SCAN_KEYS:
            for rows in db.article_texts(store, 0, upto):
                db.save_links(store, read(rows, wanted))
                done = rows[-1][0]
                if progress:
                    progress(done, total)
                if should_stop():
                    return report
        else:
            for n, key in enumerate(searched, 1):
                db.save_links(store, read(db.candidates(store, key, upto), {key}))
                if progress and n % 100 == 0:
                    progress(upto * n // len(searched), total)
                if should_stop():
                    return report
        done = upto
    db.save_links(store, [], keys_done=new_keys)
    # 2. Articles new since the last link (and those whose text changed), with every name.
    for rows in db.article_texts(store, upto, top):
        db.save_links(store, read(rows, None), upto=rows[-1][0])
        if progress:
            progress(done + rows[-1][0] - upto, total)
        if should_stop():
            return report
    db.save_links(store, [], upto=top)
    db.save_links(store, read(queued, None), dequeued=[r[1] for r in queued])
    report.seconds = time.perf_counter() - started
    return report
