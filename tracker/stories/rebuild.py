"""The full rebuild of stories: every article re-placed in time order, in memory, in one transaction.

Signatures are computed in worker processes a few batches ahead while this process places them;
signatures older than the matching horizon are dropped from memory (see ``MemoryIndex``), and the
placement tables' indexes are built once at the end.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from typing import Any

from tracker.config.stories import StoryRules
from tracker.store import Store, iso
from tracker.store import stories as tables
from tracker.stories.match import (
    HOUR,
    MERGE_STRENGTH,
    MemoryIndex,
    Signature,
    lead_rank,
    matches,
)
from tracker.stories.place import PlaceReport, signatures_of, story_row


def rebuild(
    store: Store,
    rules: StoryRules,
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> PlaceReport:
    """Re-place every article, in time order, replacing the stored stories in one transaction
    (readers see the old stories until it commits; an interrupted rebuild changes nothing).

    Args:
        workers: processes computing signatures while this one places them (default: as
            many as the cores, at most 3, since a signature costs about what placing it does and
            this process waits on them; one core: 0, computed here).
    """
    if workers is None:
        cores = os.cpu_count() or 1
        workers = min(3, cores) if cores > 1 else 0
    total = store.count()
    index = MemoryIndex(horizon=max(rules.text_days * 24 * HOUR, rules.window_hours * HOUR))
    story_of: dict[str, int] = {}
    members: dict[int, list[str]] = defaultdict(list)
    ranks: dict[str, tuple[int, int, float]] = {}  # lead_rank of every article, for the leads
    reasons: dict[str, str] = {}
    next_id = 0
    report = PlaceReport()
    stamp = iso(now)
    with store.transaction():
        tables.clear_stories(store)
        for batch in _signature_batches(store, workers if total >= SIGNATURE_POOL_MIN else 0):
            for sig in batch:
                found = matches(sig, index, rules)
                if found:
                    story = story_of[found[0].article_id]
                    reasons[sig.article_id] = found[0].reason
                    report.count(found[0].reason)
                    strong = {story_of[m.article_id] for m in found if m.strength >= MERGE_STRENGTH}
                    for other in strong - {story}:  # this article bridges two stories
                        for aid in members.pop(other):
                            story_of[aid] = story
                            members[story].append(aid)
                        report.merged += 1
                else:
                    next_id += 1
                    story = next_id
                story_of[sig.article_id] = story
                members[story].append(sig.article_id)
                ranks[sig.article_id] = lead_rank(sig)
                index.add(sig)
            tables.write_signatures(store, batch)
            for sig in batch:
                sig.stored = ""  # written: the last weeks of signatures stay in memory, not this
            report.placed += len(batch)
            if progress:
                progress(report.placed, total)
        report.stories = len(members)
        if rules.names:
            tables.replace_term_counts(store, {**index.counts, tables.TOTAL: index.rarity.total})
        tables.write_stories(
            store,
            ((story_of[a], reasons.get(a), a) for a in story_of),
            (story_row(sid, {a: ranks[a] for a in ids}, stamp) for sid, ids in members.items()),
        )
    return report


SIGNATURE_POOL_MIN = 5_000  # articles before a signature pool pays for starting its processes
BATCH = 1_000


def _signature_batches(store: Store, workers: int) -> Iterator[list[Signature]]:
    """Signatures of every article in time order, in batches; computed by ``workers`` processes
    (a few batches ahead, so memory stays bounded) or here when ``workers`` is 0."""

    def batches() -> Iterator[list[dict[str, Any]]]:
        return tables.every_article(store, BATCH)

    if workers <= 0:
        for rows in batches():
            yield signatures_of(rows)
        return
    # spawn, not fork: the parent holds an open SQLite connection mid-transaction.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        ahead: collections.deque[Future[list[Signature]]] = collections.deque()
        for rows in batches():
            ahead.append(pool.submit(signatures_of, rows))
            if len(ahead) > workers * 2:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()
