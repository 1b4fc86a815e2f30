"""The ``screening-list`` kind: the US Consolidated Screening List's bulk file, kept as list
entries and list events (what changed since the last snapshot), not as articles.

Asked with its ETag / Last-Modified, so an unchanged list costs one 304. A snapshot is applied
whole or not at all: one that fails to download or parse, keeps none of the lists, or lost most
of a list at once changes nothing, and the source fails with the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from tracker.errors import ParseError
from tracker.ingest.sources.base import Collected, RecordCounts, SourceKind, Visit
from tracker.record import DEFAULT_LISTS, LIST_NAMES

CSL_CSV = "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv"


def _collect(visit: Visit) -> Collected:
    from tracker.record.diff import check_shrink, diff_lists, kept
    from tracker.record.names import name_keys
    from tracker.record.screening import parse_screening_list
    from tracker.store.record import apply_snapshot, current_entries

    source, store = visit.source, visit.store
    lists = tuple(source.options.get("lists", DEFAULT_LISTS))
    etag, modified = store.feed_validators(source.url) if store is not None else (None, None)
    res = visit.get(source.url, "list", etag=etag, last_modified=modified)
    if res.not_modified:
        return Collected(not_modified=True)
    entries = kept(parse_screening_list(res.content, res.headers.get("content-type", "")), lists)
    if not entries:
        raise ParseError(
            f"the file holds no entries of the lists kept ({', '.join(lists)}); "
            "the last good snapshot is kept"
        )
    by_list = Counter(e.list_code for e in entries)
    summary = ", ".join(f"{code} {n}" for code, n in sorted(by_list.items()))
    if store is None:  # a preview: what the file holds
        return Collected(warning=f"{len(entries)} list entries ({summary}); nothing written")
    previous = current_entries(store, lists)
    check_shrink(
        Counter(code for code, _ in previous), entries, source.options.get("max_loss", 0.5)
    )
    changes = diff_lists(previous, entries)
    # Only new and revised entries are written (their names folded); the rest are only marked
    # seen: a daily file of 30,000 entries with 200 changes rewrites 200 rows, not 30,000.
    touched = {(c.list_code, c.entry_id) for c in changes if c.event in ("added", "revised")}
    written = [e for e in entries if (e.list_code, e.entry_id) in touched]
    # A list seen for the first time is a baseline, not a day on which every entry was added.
    known = {code for code, _ in previous}
    changes = [c for c in changes if c.list_code in known]
    apply_snapshot(
        store,
        source.name,
        [{**e.as_row(), "keys": name_keys([e.name, *e.alt_names])} for e in written],
        [
            {
                "list_code": c.list_code,
                "entry_id": c.entry_id,
                "name": c.name,
                "event": c.event,
                "citation": c.citation,
                "changed": c.changed,
                "keys": name_keys([c.entry.name, *c.entry.alt_names]) if c.entry else [],
            }
            for c in changes
        ],
        visit.now,
        validators=(source.url, res.etag, res.last_modified),
        seen_lists=lists,
    )
    events = Counter(c.event for c in changes)
    return Collected(
        record=RecordCounts(
            added=events["added"],
            revised=events["revised"],
            removed=events["removed"],
            entries=len(entries),
        ),
        # a remark, not a warning: the summary would call a warning a malformed feed
        notes=[] if known else [f"first snapshot: {len(entries)} entries ({summary})"],
    )


def _check(raw: Mapping[str, Any]) -> str | None:
    unknown = [code for code in raw.get("lists", []) if code not in LIST_NAMES]
    if unknown:
        return f"unknown list {unknown[0]!r}; lists are {', '.join(LIST_NAMES)}"
    loss = raw.get("max_loss", 0.5)
    if not 0 < loss <= 1:
        return "max_loss must be above 0 and at most 1"
    return None


SCREENING_LIST = SourceKind(
    name="screening-list",
    official=True,
    keys={"lists": list, "max_loss": (int, float)},
    default_url=CSL_CSV,
    collect=_collect,
    check=_check,
)
