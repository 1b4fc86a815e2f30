"""What one recipient's watch list caught since their last alert run.

A first run is a baseline: it sends nothing and remembers where it stood, so a new watch list
does not mail a year of history. After that, every list event about a watched entity (``entity:``
entries), and every article first seen since that matches a watched query (official documents
always; news from the recipient's ``alert_relevance``), is an alert, unless it was sent before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from tracker.config.digest import Subscriber
from tracker.digest.build import Window
from tracker.errors import QueryError
from tracker.record import LIST_NAMES
from tracker.search.engine import entity_ids
from tracker.search.query import Covers, Expand, parse_query
from tracker.store import Store
from tracker.store import alerts as db


@dataclass(frozen=True)
class Alert:
    key: str  # event:<id> or article:<id>: what "exactly once" is counted on
    kind: str  # list | official | news
    title: str
    detail: str
    url: str
    watch: str  # the watch entry that caught it
    list_name: str = ""  # a list event's list, event and citation (the subject says them)
    event: str = ""
    citation: str = ""


@dataclass
class Batch:
    subscriber: Subscriber
    alerts: list[Alert] = field(default_factory=list)  # not yet mailed to this recipient
    hook_alerts: list[Alert] = field(default_factory=list)  # not yet POSTed to their webhook
    baseline: bool = False  # the first run: nothing sent, marks set
    checked_at: datetime | None = None  # how far this batch looked, saved once it is sent
    event_id: int = 0

    @property
    def subject(self) -> str:
        """What happened, in a few words: "Entity List: 3 watched entities added (90 FR 12345)"."""
        return subject_of(self.alerts or self.hook_alerts)


def subject_of(alerts: list[Alert]) -> str:
    """The list event most alerts share, with its citation; else the first official document
    or article, and how many more."""
    if not alerts:
        return "Watch list: nothing new"
    events = [a for a in alerts if a.kind == "list"]
    if events:
        (listed, action), n = Counter((a.list_name, a.event) for a in events).most_common(1)[0]
        cites = sorted({a.citation for a in events if (a.list_name, a.event) == (listed, action)})
        cite = f" ({cites[0]})" if len(cites) == 1 and cites[0] else ""
        more = len(alerts) - n
        tail = f"; {more} more alert{'s' * (more > 1)}" if more else ""
        return f"{listed}: {n} watched {'entity' if n == 1 else 'entities'} {action}{cite}{tail}"
    official = [a for a in alerts if a.kind == "official"]
    first = (official or alerts)[0]
    return f"Watch list: {first.title}" + (f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else "")


def build_alerts(
    store: Store,
    subscriber: Subscriber,
    now: datetime,
    *,
    expand: Expand | None = None,
    covers: Covers | None = None,
) -> Batch:
    """The recipient's alerts since their marks (a baseline on the first run).

    Raises:
        QueryError: a watch entry names an entity no list or vocabulary knows (any more).
    """
    batch = Batch(subscriber, checked_at=now, event_id=db.last_event_id(store))
    # Every entry's entities first: an unknown one is said at once, even on a first run.
    entries = []
    for entry in subscriber.watch:
        parsed = parse_query(entry, expand, covers)
        try:
            entries.append((entry, entity_ids(store, parsed.entities)))
        except QueryError as exc:
            raise QueryError(f"watch entry {entry!r}: {exc}") from exc
    mark = db.marks(store, subscriber.email)
    if mark is None:
        batch.baseline = True
        return batch
    since, after = mark
    window = Window(store, since, now)
    found: dict[str, Alert] = {}
    for entry, watched in entries:
        for ev in db.entity_events(store, watched, after):
            listed = LIST_NAMES.get(ev["list_code"], ev["list_code"])
            found.setdefault(
                f"event:{ev['id']}",
                Alert(
                    f"event:{ev['id']}",
                    "list",
                    f"{ev['name']}: {ev['event']} ({listed})",
                    ev["citation"] or ev["document"] or "",
                    ev["url"] or "",
                    entry,
                    listed,
                    ev["event"],
                    ev["citation"] or ev["document"] or "",
                ),
            )
        for aid in sorted(window.matching(entry, expand, covers)):
            row = window.rows[aid]
            official = window.official[aid]
            if not official and window.relevance[aid] < subscriber.alert_relevance:
                continue
            found.setdefault(
                f"article:{aid}",
                Alert(
                    f"article:{aid}",
                    "official" if official else "news",
                    row["title"] or "",
                    window.outlet[aid],
                    row["url"] or "",
                    entry,
                ),
            )
    order = {"list": 0, "official": 1, "news": 2}
    ranked = sorted(found.values(), key=lambda a: (order[a.kind], a.key))
    mailed = db.sent_keys(store, subscriber.email, found)
    batch.alerts = [a for a in ranked if a.key not in mailed]
    if subscriber.webhook:
        hooked = db.hooked_keys(store, subscriber.email, subscriber.webhook, found)
        batch.hook_alerts = [a for a in ranked if a.key not in hooked]
    return batch


def render_text(batch: Batch, alerts: list[Alert] | None = None) -> str:
    """The plain-text message: one short block per alert, under what caught it."""
    alerts = batch.alerts if alerts is None else alerts
    lines = [subject_of(alerts), ""]
    for heading, kind in (
        ("List changes", "list"),
        ("Official documents", "official"),
        ("News", "news"),
    ):
        group = [a for a in alerts if a.kind == kind]
        if not group:
            continue
        lines += [heading.upper(), "=" * len(heading)]
        for a in group:
            lines.append(f"- {a.title}")
            lines.append(f"  {a.detail}  [watch: {a.watch}]".replace("    [", "  ["))
            if a.url:
                lines.append(f"  {a.url}")
        lines.append("")
    lines.append(f"Sent by tracker to {batch.subscriber.email} for its watch list.")
    return "\n".join(lines) + "\n"
