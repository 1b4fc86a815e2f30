"""What goes in one subscriber's digest: official actions, top stories by theme, the rest, movement.

Pure reading: :func:`build_digest` takes the store, the subscriber, the window and what that
subscriber has already been sent, and returns a :class:`Digest`; rendering and sending are
elsewhere (:mod:`tracker.digest.render`, :mod:`tracker.digest.mail`, :mod:`tracker.digest.send`).

An item is a story, not a copy: its members in the window are one item, shown by the member in
the subscriber's language when there is one, with the other outlets as "also reported by". A
story any member of which was already sent to the subscriber is not sent again (new copies of
old news are not news); an official document is its own item and is sent once.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from tracker.config.digest import DigestSettings, Subscriber
from tracker.record.deadlines import DeadlineChange, DocumentDeadline
from tracker.search.query import Covers, Expand, parse_query, to_fts
from tracker.store import Store, digests
from tracker.store.alerts import alerted_articles
from tracker.store.stories import stories_of
from tracker.stories.match import is_official
from tracker.tagging import most_specific_first
from tracker.tagging.tagger import RELEVANT
from tracker.textnorm import HAN_RE

# Themes, in the order a story is assigned to the first whose tags it carries. China's measures
# and allied controls come before licences: a Dutch licence rule is an allied control.
THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "China countermeasures",
        (
            "agency:mofcom",
            "agency:gacc",
            "policy:unreliable-entity-list",
            "policy:prc-control-list",
            "policy:prc-watch-list",
            "policy:export-control-law",
            "policy:dual-use",
            "material:",
            "policy:mofcom-notice-",
        ),
    ),
    ("Allied controls", ("company:asml", "company:tokyo-electron", "chip:duv", "chip:euv")),
    ("Company licences", ("policy:export-licence", "policy:revenue-share")),
    (
        "US controls",
        (
            "agency:bis",
            "agency:us-commerce",
            "agency:federal-register",
            "agency:us-state-department",
            "policy:",
        ),
    ),
)
OTHER_THEME = "Other"
EXTRACT_CHARS = 320
TAGS_SHOWN = 4
TODAY_ITEMS = 3
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]\.|\b(?:No|Nos|Inc|Corp|Co|Ltd|Mr|Ms|Dr|St|vs|Jan|Feb|Mar|Apr|Jun|Jul|Aug"
    r"|Sep|Sept|Oct|Nov|Dec)\.)$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])|(?<=[。！？])")


@dataclass
class Item:
    """One story (or one official document) as a digest shows it."""

    article_id: str  # the member shown
    title: str
    url: str
    source: str
    published: datetime | None
    lang: str
    story_id: int | None = None
    extract: str = ""
    tags: list[str] = field(default_factory=list)  # kind:slug, its own, most specific first
    tag_names: list[str] = field(default_factory=list)
    also: list[tuple[str, str]] = field(default_factory=list)  # (outlet, url) of other members
    article_ids: list[str] = field(default_factory=list)  # every member sent with this item
    score: float = 0.0
    theme: str = OTHER_THEME
    official: bool = False
    date_only: bool = False  # published on a day, with no time given
    has_official: bool = False  # its story's official document is in the same digest
    languages: int = 1  # how many languages the story's members here are in
    doc_type: str | None = None
    action: str | None = None
    document_number: str | None = None
    effective_on: str | None = None


@dataclass
class TagMove:
    tag: str
    name: str
    count: int
    previous: int  # in the 7 days before the window
    expected: float  # previous, scaled to the window's length

    @property
    def new(self) -> bool:
        return self.previous == 0


@dataclass
class Digest:
    subscriber: Subscriber
    start: datetime  # in the subscriber's time zone
    end: datetime
    official: list[Item] = field(default_factory=list)
    today: list[Item] = field(default_factory=list)  # the few items that matter most, in order
    themes: list[tuple[str, list[Item]]] = field(default_factory=list)
    other: list[Item] = field(default_factory=list)
    movement: list[TagMove] = field(default_factory=list)
    # Matched but past max_other: counted in the digest ("and N more"), recorded as delivered,
    # so they do not come back every day; tracker search finds them.
    overflow: list[str] = field(default_factory=list)
    # Found now but published days before: one line each under "Found late".
    late: list[Item] = field(default_factory=list)
    # Found now but published long ago, or late and off-topic: left out, recorded as delivered.
    stale: list[str] = field(default_factory=list)
    # Deadlines in the next COMING_UP_DAYS (rules taking effect, comments closing ...).
    coming_up: list[DocumentDeadline] = field(default_factory=list)
    # Corrections in the window that set another document's date anew ("Changed since").
    changed: list[DeadlineChange] = field(default_factory=list)
    # Already sent as alerts (tracker alerts) since the last digest: one line each, not as new.
    alerted: list[Item] = field(default_factory=list)

    @property
    def stories(self) -> list[Item]:
        return [item for _, items in self.themes for item in items]

    @property
    def item_ids(self) -> set[str]:
        """Every article this digest delivers (recorded as sent once the server accepts it)."""
        items = [*self.official, *self.stories, *self.other, *self.late, *self.alerted]
        shown = {aid for item in items for aid in (item.article_ids or [item.article_id])}
        return shown | set(self.overflow) | set(self.stale)

    @property
    def empty(self) -> bool:
        return not (self.official or self.themes or self.other or self.late)

    @property
    def lead(self) -> Item | None:
        """The item the digest and its subject lead with."""
        first = [*self.today, *self.official, *self.stories, *self.other, *self.late]
        return first[0] if first else None


class Window:
    """Articles first seen in one window, read once and shared by every subscriber's digest."""

    def __init__(self, store: Store, start: datetime, end: datetime) -> None:
        self.store, self.start, self.end = store, start, end
        self.rows = {r["id"]: r for r in digests.window_rows(store, start, end)}
        self.floor = min((r["rowid"] for r in self.rows.values()), default=0)
        self.tags: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        self.names: dict[str, str] = {}
        for aid, tag, count, in_title, name in digests.tags_with_names(store, list(self.rows)):
            self.tags[aid].append((tag, count, in_title))
            self.names[tag] = name
        self._movement: list[TagMove] | None = None
        self._deadlines: tuple[list[DocumentDeadline], list[DeadlineChange]] | None = None
        self._index: (
            tuple[dict[str, Any], dict[Any, list[str]], dict[Any, float], dict[Any, str], list[Any]]
            | None
        ) = None
        # Per-article figures every subscriber's digest ranks by, computed once.
        self.official = {
            aid: bool(r["source_official"]) or is_official(r["url"], r["document_number"])
            for aid, r in self.rows.items()
        }
        self.outlet = {aid: outlet_of(r) for aid, r in self.rows.items()}
        self.relevance = {aid: r["relevance"] or 0.0 for aid, r in self.rows.items()}
        self.in_title = {aid: sum(t[2] for t in self.tags.get(aid, ())) for aid in self.rows}
        self.by_rowid = {r["rowid"]: aid for aid, r in self.rows.items()}
        self.by_tag: dict[str, set[str]] = defaultdict(set)
        for aid, tags in self.tags.items():
            for tag, _, _ in tags:
                self.by_tag[tag].add(aid)

    def story_index(
        self,
    ) -> tuple[dict[str, Any], dict[Any, list[str]], dict[Any, float], dict[Any, str], list[Any]]:
        """Per article its story key (the story id, or ``a:<id>`` for an unplaced article); per
        key its members here, its rank from all of them, its first member id (ties break the
        same way every time); and every key, best first."""
        if self._index is None:
            key_of: dict[str, Any] = {}
            members: dict[Any, list[str]] = defaultdict(list)
            for aid, row in self.rows.items():
                story = row["story_id"]
                key = f"a:{aid}" if story is None else story
                key_of[aid] = key
                members[key].append(aid)
            base = {key: _score(ids, self) for key, ids in members.items()}
            first = {key: min(ids) for key, ids in members.items()}
            order = sorted(members, key=lambda k: (-base[k], first[k]))
            self._index = (key_of, members, base, first, order)
        return self._index

    def matching(self, query: str, expand: Expand | None, covers: Covers | None = None) -> set[str]:
        """Ids in the window that match a subscriber's filter (the search query syntax)."""
        if not query.strip():
            return set(self.rows)
        parsed = parse_query(query, expand, covers)
        ids = set(self.rows)
        if parsed.groups:
            found = digests.matching_rowids(self.store, to_fts(parsed.groups), self.floor)
            ids = {self.by_rowid[r] for r in found if r in self.by_rowid}
        for tag in parsed.tags:
            ids &= self.by_tag.get(tag, set())
        if parsed.sources:
            ids = {aid for aid in ids if self.rows[aid]["source"] in parsed.sources}
        if parsed.lang:
            want = parsed.lang.lower()
            ids = {aid for aid in ids if (self.rows[aid]["lang"] or "").lower().startswith(want)}
        if parsed.entities or parsed.listed:
            from tracker.search.engine import entity_ids, list_codes

            naming = digests.naming_rowids(
                self.store,
                self.floor,
                entity_ids(self.store, parsed.entities),
                list_codes(parsed.listed),
            )
            ids &= {self.by_rowid[r] for r in naming if r in self.by_rowid}
        return ids

    def deadlines(self) -> tuple[list[DocumentDeadline], list[DeadlineChange]]:
        """The window's "Coming up" and "Changed since" (the same as ``tracker deadlines``
        reads), read once and shared by every subscriber's digest."""
        if self._deadlines is None:
            from tracker.record.deadlines import all_deadlines, corrections_since
            from tracker.store.deadlines import dated_documents, suspensions

            documents = dated_documents(self.store)
            found, _ = all_deadlines(documents, suspensions(self.store))
            self._deadlines = (
                coming_up(found, self.end.date()),
                corrections_since(documents, self.start),
            )
        return self._deadlines

    def languages(self, ids: Iterable[str]) -> int:
        """How many languages (English, Chinese in either script) the articles are in."""
        return len({(self.rows[a]["lang"] or "en").split("-")[0] for a in ids})

    def movement(self, news_from: datetime, limit: int = 8) -> list[TagMove]:
        """Tags that rose against the 7 days before the window, or appeared for the first time,
        counting the window's news (published from ``news_from``), not old articles found late."""
        if self._movement is not None:
            return self._movement
        now = Counter(
            t[0]
            for aid, row in self.rows.items()
            if (row["relevance"] or 0) >= RELEVANT
            and ((moment := moment_of(row)) is None or moment >= news_from)
            for t in self.tags.get(aid, ())
        )
        before = self.start - timedelta(days=7)
        previous = Counter(digests.relevant_tag_counts(self.store, before, self.start, RELEVANT))
        scale = (self.end - self.start) / timedelta(days=7)
        moves = []
        for tag, count in now.items():
            expected = previous[tag] * scale
            if previous[tag] == 0 or (count >= 2 and count >= 1.5 * expected + 1):
                moves.append(TagMove(tag, self.names.get(tag, tag), count, previous[tag], expected))
        moves.sort(key=lambda m: (-(m.count - m.expected), m.tag))
        self._movement = moves[:limit]
        return self._movement


def outlet_of(row: dict[str, Any]) -> str:
    """Who published an article, as readers know it: the publisher a Google News item names,
    else its source's title, else the source's name."""
    return str(row["publisher"] or row.get("source_title") or row["source"])


def moment_of(row: dict[str, Any]) -> datetime | None:
    when = row["published_at"] or row["first_seen_at"]
    return datetime.fromisoformat(when) if when else None


def theme_of(tags: Iterable[tuple[str, int, int]]) -> str:
    """The theme whose tags weigh most in the story: a tag in a headline weighs three mentions
    (a US rule that quotes MOFCOM's reply is still a US control); ties go to the earlier theme."""
    weights = [0.0] * len(THEMES)
    for tag, count, in_title in tags:
        for i, (_, prefixes) in enumerate(THEMES):
            if tag.startswith(prefixes):
                weights[i] += min(count, 5) + 3 * in_title
                break
    best = max(range(len(THEMES)), key=lambda i: (weights[i], -i))
    return THEMES[best][0] if weights[best] else OTHER_THEME


def extract(text: str, sentences: int = 2) -> str:
    """The first sentences of an article, about ``EXTRACT_CHARS`` characters: enough to know
    what it says, never the article itself. It ends where a sentence ends: a second sentence
    is added only when it fits, and only a first sentence of more than twice the length is cut
    (at a word, with "…")."""
    flat = " ".join(text.split())
    parts: list[str] = []
    for piece in (p.strip() for p in _SENTENCE_END.split(flat)):
        if parts and _ABBREVIATION.search(parts[-1]):
            parts[-1] += " " + piece  # "the U.S. Government", "No. 58": not a sentence end
        elif piece:
            parts.append(piece)
    if not parts:
        return ""
    out = parts[0]
    for piece in parts[1:sentences]:
        if len(out) + 1 + len(piece) > EXTRACT_CHARS:
            break
        out += ("" if HAN_RE.match(piece) else " ") + piece
    if len(out) > 2 * EXTRACT_CHARS:
        cut = out[: EXTRACT_CHARS - 1]
        out = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return out


def build_digest(
    store: Store,
    subscriber: Subscriber,
    window: Window,
    *,
    settings: DigestSettings,
    sent: set[str] = frozenset(),  # type: ignore[assignment]
    expand: Expand | None = None,
    covers: Covers | None = None,
) -> Digest:
    """The digest for ``subscriber`` over ``window``, leaving out what they were already sent."""
    zone = subscriber.zone
    digest = Digest(subscriber, window.start.astimezone(zone), window.end.astimezone(zone))
    rows = window.rows
    wanted = window.matching(subscriber.filter, expand, covers) - sent
    # What the subscriber's watch list already alerted: listed apart, not offered as new.
    alerted = wanted & alerted_articles(store, subscriber.email)
    wanted -= alerted
    digest.alerted = [_item(rows[aid], window, zone) for aid in sorted(alerted)]
    key_of, members, base, first, order = window.story_index()
    wanted, late_ids, digest.stale = _by_publication(wanted, window, settings, key_of)
    sent_stories = stories_of(store, list(sent))
    # Official documents: their own section, each sent once, whatever story they joined.
    official = [
        aid
        for aid in wanted
        if window.official[aid]
        and ((rows[aid]["relevance"] or 0) >= RELEVANT or subscriber.filter.strip())
    ]
    official.sort(key=lambda a: (rows[a]["published_at"] or rows[a]["first_seen_at"] or "", a))
    digest.official = [_item(rows[aid], window, zone, official=True) for aid in reversed(official)]
    official_stories = {i.story_id for i in digest.official if i.story_id is not None}
    # Stories: members in the window not yet sent; unplaced articles stand alone. A story ranks
    # by all its members in the window (every outlet that carried it), whichever of them the
    # filter matched: ranks and their order are computed once per window, for every subscriber.
    remaining = wanted.difference(official)
    keys = {key_of[aid] for aid in remaining}
    keys = {k for k in keys if isinstance(k, str) or k not in sent_stories}
    bonus = keys & official_stories  # their official document is in this digest: half a point

    def score(key: Any) -> float:
        return base[key] + 0.5 * (key in bonus)

    head: list[Any] = []
    for key in order:  # the best first; only bonus keys can move up, and they are all in the head
        if key in keys and key not in bonus:
            head.append(key)
            if len(head) >= settings.max_stories + settings.max_other:
                break
    ranked = sorted([*head, *bonus], key=lambda k: (-score(k), first[k]))
    top_keys = [k for k in ranked if score(k) >= RELEVANT][: settings.max_stories]
    chosen = set(top_keys)
    # "Also matched" is the relevant stories past max_stories: the filter's off-topic matches
    # (a phone review naming Nvidia) are counted in "and N more", not listed.
    shown_other = [k for k in ranked if k not in chosen and score(k) >= RELEVANT][
        : settings.max_other
    ]
    listed = chosen | set(shown_other)

    def group(key: Any) -> list[str]:
        return [aid for aid in members[key] if aid in remaining]

    top = [_story_item(group(k), window, subscriber, score(k)) for k in top_keys]
    for item, key in zip(top, top_keys, strict=True):
        item.has_official = key in bonus
    by_theme: dict[str, list[Item]] = defaultdict(list)
    for item in top:
        by_theme[item.theme].append(item)
    order = [name for name, _ in THEMES] + [OTHER_THEME]
    digest.themes = [(name, by_theme[name]) for name in order if by_theme.get(name)]
    digest.other = [_story_item(group(k), window, subscriber, score(k)) for k in shown_other]
    unlisted = keys - listed
    digest.overflow = [aid for aid in remaining if key_of[aid] in unlisted]
    late, off_topic = _late_items(late_ids, window, subscriber, key_of)
    digest.stale += off_topic
    digest.late = late[: settings.max_other]
    digest.overflow += [aid for item in late[settings.max_other :] for aid in item.article_ids]
    for item in digest.official:
        key = key_of[item.article_id]
        item.score = base[key] + 0.5
        item.languages = window.languages(members[key])
    digest.today = _today([*digest.official, *top])
    _fill_text(store, [*digest.official, *top])
    if not digest.empty:
        digest.movement = window.movement(window.start - timedelta(hours=settings.late_hours))
    digest.coming_up, digest.changed = window.deadlines()
    return digest


COMING_UP_DAYS = 14


def coming_up(
    found: list[DocumentDeadline], today: date, days: int = COMING_UP_DAYS
) -> list[DocumentDeadline]:
    """Deadlines from today to ``days`` ahead (every subscriber gets them: the record
    concerns everyone)."""
    last = today + timedelta(days=days)
    return [d for d in found if today <= d.on <= last]


def _item(row: dict[str, Any], window: Window, zone: Any, official: bool = False) -> Item:
    own = [
        {
            "kind": t[0].split(":", 1)[0],
            "slug": t[0].split(":", 1)[1],
            "count": t[1],
            "in_title": t[2],
        }
        for t in window.tags.get(row["id"], ())
    ]
    tags = [f"{t['kind']}:{t['slug']}" for t in most_specific_first(own)][:TAGS_SHOWN]
    moment = moment_of(row)
    return Item(
        article_id=row["id"],
        title=row["title"] or "(no title)",
        url=row["html_url"] or row["url"],
        source=outlet_of(row),
        published=moment.astimezone(zone) if moment else None,
        # A date without a time (a Federal Register publication date) is a calendar day: shown
        # as that day, never as "00:00" or shifted into the day before by a time zone.
        date_only=moment is not None
        and moment.time() == time(0)
        and moment.utcoffset() == timedelta(0),
        lang=row["lang"] or "",
        story_id=row["story_id"],
        tags=tags,
        tag_names=[window.names.get(t, t) for t in tags],
        article_ids=[row["id"]],
        official=official,
        doc_type=row["doc_type"],
        action=row["action"],
        document_number=row["document_number"],
        effective_on=row["effective_on"],
    )


def _score(ids: list[str], window: Window) -> float:
    """A story's rank: its most relevant member, the number of outlets that carried it and the
    tags its headlines name (a digest adds half a point when the story's official document is
    in it)."""
    relevance = max(window.relevance[a] for a in ids)
    outlets = len({window.outlet[a] for a in ids})
    in_title = sum(window.in_title[a] for a in ids)
    return round(relevance + 0.3 * math.log2(outlets) + 0.05 * min(10, in_title), 3)


def _story_item(ids: list[str], window: Window, subscriber: Subscriber, score: float) -> Item:
    """One item for a story's members in the window, shown by the member the subscriber reads
    best: their language first, then the earliest."""
    members = sorted(
        (window.rows[a] for a in ids),
        key=lambda r: (r["published_at"] or r["first_seen_at"] or "", r["id"]),
    )
    preferred = [m for m in members if (m["lang"] or "en").startswith(subscriber.lang)]
    shown = (preferred or members)[0]
    item = _item(shown, window, subscriber.zone)  # its own tags, not the whole story's
    item.article_ids = [m["id"] for m in members]
    item.languages = window.languages(item.article_ids)
    seen = {item.source}
    for m in members:
        outlet = window.outlet[m["id"]]
        if m is not shown and outlet not in seen:
            seen.add(outlet)
            item.also.append((outlet, m["url"]))
    item.score = score
    item.theme = theme_of(t for m in members for t in window.tags.get(m["id"], ()))
    return item


def _by_publication(
    wanted: set[str], window: Window, settings: DigestSettings, key_of: dict[str, Any]
) -> tuple[set[str], list[str], list[str]]:
    """Split what a subscriber would get by when it was published: news (published in the
    window, or up to ``late_hours`` before it), found late (up to ``found_late_days`` old) and
    stale (older). An old article in a story that has news today goes with the story."""
    news_from = window.start - timedelta(hours=settings.late_hours)
    late_from = window.start - timedelta(days=settings.found_late_days)
    news: set[str] = set()
    late: list[str] = []
    stale: list[str] = []
    for aid in wanted:
        moment = moment_of(window.rows[aid])
        if moment is None or moment >= news_from:
            news.add(aid)
        elif moment >= late_from:
            late.append(aid)
        else:
            stale.append(aid)
    current = {key_of[aid] for aid in news}
    joined = [aid for aid in [*late, *stale] if key_of[aid] in current]
    news.update(joined)
    late = [aid for aid in late if aid not in news]
    stale = [aid for aid in stale if aid not in news]
    return news, late, stale


def _late_items(
    ids: list[str], window: Window, subscriber: Subscriber, key_of: dict[str, Any]
) -> tuple[list[Item], list[str]]:
    """One line per relevant story found late, newest first; and the off-topic ids left out."""
    groups: dict[Any, list[str]] = defaultdict(list)
    for aid in ids:
        groups[key_of[aid]].append(aid)
    items: list[Item] = []
    off_topic: list[str] = []
    for group in groups.values():
        best = max(window.relevance[a] for a in group)
        if best >= RELEVANT:
            items.append(_story_item(group, window, subscriber, best))
        else:
            off_topic += group
    items.sort(
        key=lambda i: i.published or datetime.min.replace(tzinfo=subscriber.zone), reverse=True
    )
    return items, off_topic


def _today(items: list[Item]) -> list[Item]:
    """The few items that matter most, whatever their theme: the biggest stories (outlets,
    relevance and headline tags in ``score``), an official document, both languages. One per
    story: an official document and the story it leads are one event."""
    ranked = sorted(
        items,
        # score already holds the outlets, relevance, headline tags and the official bonus
        # On a tie the story comes before its own official document: it names the outlets.
        key=lambda i: (-(i.score + 0.3 * (i.languages > 1)), i.official),
    )
    out: list[Item] = []
    seen: set[Any] = set()
    for item in ranked:
        key = item.story_id if item.story_id is not None else item.article_id
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out[:TODAY_ITEMS]


def _fill_text(store: Store, items: list[Item]) -> None:
    """Read the text of the shown articles only (the window may hold fifty thousand)."""
    ids = [i.article_id for i in items]
    texts = digests.texts(store, ids)
    for item in items:
        item.extract = extract(texts.get(item.article_id, ""))
