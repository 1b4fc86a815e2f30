"""A new snapshot of the lists against the last one kept: what was added, revised or removed.

Only a complete, believable snapshot is compared: a list that suddenly lost most of its entries
is far likelier a broken export than a mass delisting, so it is refused (the last good snapshot
stays, and the refusal says why), as a file that failed to download or parse changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tracker.errors import ParseError
from tracker.record.screening import COMPARED, ListEntry

SHRINK_FLOOR = 20  # lists smaller than this may change a lot in one day
MAX_LOSS = 0.5  # a list losing more than half its entries at once is refused


@dataclass
class Change:
    event: str  # added | revised | removed
    list_code: str
    entry_id: str
    name: str
    citation: str = ""
    changed: list[str] = field(default_factory=list)  # revised: which fields
    entry: ListEntry | None = None  # added and revised: the entry as it is now


def kept(entries: Iterable[ListEntry], lists: Iterable[str]) -> list[ListEntry]:
    """The entries of the lists a source keeps (``EL``, ``MEU`` ...)."""
    wanted = set(lists)
    return [e for e in entries if e.list_code in wanted]


def check_shrink(
    previous: Mapping[str, int], current: Iterable[ListEntry], max_loss: float = MAX_LOSS
) -> None:
    """Refuse a snapshot in which a list of some size lost more than ``max_loss`` of its entries.

    Raises:
        ParseError: naming the list and the counts.
    """
    now = Counter(e.list_code for e in current)
    for code, before in sorted(previous.items()):
        after = now.get(code, 0)
        if before >= SHRINK_FLOOR and after < before * (1 - max_loss):
            raise ParseError(
                f"the {code} list went from {before} entries to {after} in one snapshot; that is "
                "a broken export far more often than a mass delisting, so it was not applied and "
                "the last good snapshot is kept. If the change is real, set max_loss = 1.0 on "
                "the source in tracker.toml for one fetch"
            )


def diff_lists(
    previous: Mapping[tuple[str, str], Mapping[str, Any]], current: list[ListEntry]
) -> list[Change]:
    """Changes from ``previous`` (key (list, id) -> the stored entry's compared fields, the
    entries currently on the lists) to ``current``."""
    changes: list[Change] = []
    seen: set[tuple[str, str]] = set()
    for entry in current:
        key = (entry.list_code, entry.entry_id)
        seen.add(key)
        before = previous.get(key)
        if before is None:
            changes.append(Change("added", *key, entry.name, entry.citation, entry=entry))
            continue
        now = entry.as_row()
        changed = [f for f in COMPARED if _norm(before.get(f)) != _norm(now.get(f))]
        if changed:
            changes.append(
                Change("revised", *key, entry.name, entry.citation, changed=changed, entry=entry)
            )
    for key, before in previous.items():
        if key not in seen:
            changes.append(
                Change(
                    "removed",
                    *key,
                    str(before.get("name") or ""),
                    str(before.get("citation") or ""),
                )
            )
    return changes


def _norm(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return "" if value is None else str(value)
