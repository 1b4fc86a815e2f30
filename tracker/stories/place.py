"""Placing new articles into stories as they arrive (the incremental algorithm).

An article with no story is pending: ``place_pending`` picks it up, so a run that stopped between
saving and placing catches up on the next one. The SQL is in :mod:`tracker.store.stories`; the
full rebuild is :mod:`tracker.stories.rebuild`.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracker.config.stories import StoryRules
from tracker.store import Store, iso
from tracker.store import stories as tables
from tracker.stories.match import (
    BAND_CANDIDATES,
    HOUR,
    KEY_CANDIDATES,
    MERGE_STRENGTH,
    TERM_CANDIDATES,
    VIA_BAND,
    VIA_KEY,
    VIA_TERM,
    Signature,
    lead_rank,
    matches,
    reason_kind,
    signature,
)
from tracker.stories.terms import Rarity


@dataclass
class PlaceReport:
    placed: int = 0
    joined: int = 0
    stories: int = 0  # new stories
    merged: int = 0  # stories joined into another by an article matching both
    seconds: float = 0.0  # time spent placing
    reasons: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str) -> None:
        self.joined += 1
        kind = reason_kind(reason)
        self.reasons[kind] = self.reasons.get(kind, 0) + 1


def signatures_of(rows: list[dict[str, Any]]) -> list[Signature]:
    """Signatures with their stored facts encoded (this runs in worker processes, so the JSON
    is not left to the one process that places)."""
    sigs = [signature(row, row["tags"]) for row in rows]
    for sig in sigs:
        sig.stored = sig.facts()
    return sigs


def story_row(
    sid: int, ranks: dict[str, tuple[int, int, float]], stamp: str | None
) -> tuple[int, str, int, str | None, str | None, str | None]:
    """A ``stories`` row from its members' lead ranks (see ``stories.lead_rank``): the best
    ranked leads, and the ranks' moments give the story's span."""
    lead = min(ranks, key=ranks.__getitem__)
    moments = [rank[2] for rank in ranks.values()]
    return (sid, lead, len(ranks), iso_ts(min(moments)), iso_ts(max(moments)), stamp)


def iso_ts(moment: float) -> str | None:
    return iso(datetime.fromtimestamp(moment, UTC)) if moment else None


# ---------------------------------------------------------------- incremental placement
class SqlIndex:
    """Candidates looked up in the stored signatures (for articles arriving one by one)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Signatures read back (or just placed) in this run: neighbouring articles share most
        # candidates, and reading one back costs a query and a JSON decode.
        self.cache: dict[str, Signature] = {}
        # Term counts read so far (plus this run's), and what this run added, not yet written.
        self.counts: dict[str, int] = {}
        self.pending: dict[str, int] = {}
        total = tables.term_counts(store, [tables.TOTAL]).get(tables.TOTAL, 0)
        self.rarity = Rarity(self.counts, total)

    def _load(self, terms: Iterable[str]) -> None:
        counts = self.counts
        missing = [t for t in terms if t not in counts]
        if missing:
            found = tables.term_counts(self.store, missing)
            for term in missing:
                counts[term] = found.get(term, 0)

    def count(self, sig: Signature) -> None:
        self._load(sig.terms)
        counts, pending = self.counts, self.pending
        for term in sig.terms:
            counts[term] += 1
            pending[term] = pending.get(term, 0) + 1
        pending[tables.TOTAL] = pending.get(tables.TOTAL, 0) + 1
        self.rarity.grew(1)

    def weigh(self, sigs: list[Signature]) -> None:
        counts = self.counts
        self._load({t for s in sigs for t in s.terms if t not in counts})

    def flush(self) -> None:
        """Write this run's term counts (inside the caller's transaction)."""
        if self.pending:
            tables.add_term_counts(self.store, self.pending)
            self.pending = {}
        if len(self.counts) > 500_000:  # read back as needed
            self.counts.clear()
            self.rarity.grew(0)

    def remember(self, sig: Signature) -> None:
        if len(self.cache) > 50_000:
            self.cache.clear()
        self.cache[sig.article_id] = sig

    def candidates(self, sig: Signature, rules: StoryRules) -> Iterator[tuple[Signature, int]]:
        ids: dict[str, int] = {}  # article id -> how it was found
        # The newest few per band: a band shared by thousands of near-identical copies would
        # otherwise make every new copy compare with all of them (placement went quadratic).
        for aid in tables.band_neighbours(self.store, sig.bands, BAND_CANDIDATES):
            ids[aid] = VIA_BAND
        window = rules.window_hours * HOUR
        # The nearest in time on either side of the article, per key.
        keys = [k for k in sig.keys if not k.startswith("t:")]
        terms = [k for k in sig.keys if k.startswith("t:")]
        for aid in tables.key_neighbours(
            self.store, keys, sig.moment, window, KEY_CANDIDATES, KEY_CANDIDATES // 4
        ):
            ids.setdefault(aid, VIA_KEY)
        for aid in tables.key_neighbours(
            self.store, terms, sig.moment, window, TERM_CANDIDATES, TERM_CANDIDATES // 2
        ):
            ids.setdefault(aid, VIA_TERM)
        for aid, via in ids.items():
            cached = self.cache.get(aid)
            if cached is not None:
                yield cached, via
        wanted = [aid for aid in ids if aid not in self.cache]
        for row in tables.signature_rows(self.store, wanted):
            cand = Signature.from_row(row)
            self.remember(cand)
            yield cand, ids[cand.article_id]


def place_pending(
    store: Store,
    rules: StoryRules,
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    pool: Executor | None = None,
    stop: threading.Event | None = None,
) -> PlaceReport:
    """Place every article that has no story yet, oldest first, in small transactions.

    Args:
        pool: worker processes to compute signatures in, a few batches ahead, while this process
            places them (the fetch passes its extraction pool, idle by then).
        stop: when set, placement ends after the current transaction; the rest stay pending.
    """
    report = PlaceReport()
    started = time.perf_counter()
    index = SqlIndex(store)
    pending = tables.pending_ids(store)
    chunks = [pending[i : i + 200] for i in range(0, len(pending), 200)]

    def signed() -> Iterator[list[Signature]]:
        if pool is None:
            for chunk in chunks:
                yield signatures_of(tables.article_rows(store, chunk))
            return
        ahead: collections.deque[Future[list[Signature]]] = collections.deque()
        for chunk in chunks:
            ahead.append(pool.submit(signatures_of, tables.article_rows(store, chunk)))
            if len(ahead) > 4:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()

    for sigs in signed():
        if stop is not None and stop.is_set():
            break  # the rest stay pending for the next run
        with store.transaction():
            for sig in sigs:
                _place_one(store, index, sig, rules, now, report)
            index.flush()
        if progress:
            progress(report.placed, len(pending))
    report.seconds = time.perf_counter() - started
    return report


def _place_one(
    store: Store,
    index: SqlIndex,
    sig: Signature,
    rules: StoryRules,
    now: datetime,
    report: PlaceReport,
) -> None:
    found = matches(sig, index, rules)
    index.remember(sig)
    stamp = iso(now)
    reason = found[0].reason if found else None
    merged = False
    if found:
        story = tables.story_of(store, found[0].article_id)
        report.count(found[0].reason)
        strong = [m.article_id for m in found if m.strength >= MERGE_STRENGTH]
        for other in tables.stories_of(store, strong) - {story}:
            # This article bridges two stories (they arrived out of order): they are one.
            tables.merge_story(store, story, other)
            report.merged += 1
            merged = True
    else:
        story = tables.new_story(store, sig.article_id, iso_ts(sig.moment), stamp)
        report.stories += 1
    tables.assign(store, sig.article_id, story, reason)
    tables.write_signatures(store, [sig])
    sig.stored = ""  # kept in the cache: the parts, not their encoding
    if merged:
        _refresh_story(store, story, stamp)
    elif found:
        _add_member(store, index, story, sig, stamp)
    report.placed += 1


def _add_member(
    store: Store, index: SqlIndex, story: int, sig: Signature, stamp: str | None
) -> None:
    """A story's size, lead and span after one more member: from the stored row and the lead's
    signature alone, not every member's (which made a story of n copies cost n^2)."""
    row = tables.story_head(store, story)
    if row is None:
        _refresh_story(store, story, stamp)
        return
    lead_id, size, first, last = row
    lead = index.cache.get(lead_id)
    if lead is None:
        rows = list(tables.signature_rows(store, [lead_id]))
        lead = Signature.from_row(rows[0]) if rows else None
    if lead is None or lead_rank(sig) < lead_rank(lead):
        lead_id = sig.article_id
    moment = iso_ts(sig.moment)
    tables.update_story(
        store,
        story,
        lead_id,
        size + 1,
        min(filter(None, (first, moment)), default=None),
        max(filter(None, (last, moment)), default=None),
        stamp,
    )


def _refresh_story(store: Store, story: int, stamp: str | None) -> None:
    """Size, lead and time span of a story, from its members' signatures."""
    members = [Signature.from_row(r) for r in tables.member_signature_rows(store, story)]
    if not members:
        tables.delete_story(store, story)
        return
    _, lead, size, first, last, _ = story_row(
        story, {m.article_id: lead_rank(m) for m in members}, stamp
    )
    tables.update_story(store, story, lead, size, first, last, stamp)


def delete_articles(store: Store, ids: Iterable[str], now: datetime) -> int:
    """Delete articles with everything stored about them, their stories mended; returns how
    many there were."""
    wanted = list(ids)
    with store.transaction():
        for aid in wanted:
            story = tables.forget_article(store, aid)
            if story is not None:
                _refresh_story(store, story, iso(now))
        return store.delete_articles(wanted)


__all__ = ["PlaceReport", "SqlIndex", "delete_articles", "place_pending"]
