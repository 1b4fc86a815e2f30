"""The ``[digest]`` table of tracker.toml: digest options and ``[[digest.subscribers]]``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracker.errors import ConfigError, QueryError
from tracker.search.query import parse_query
from tracker.textnorm import first_control

EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (CR and LF included): in a mail header one
    would start a new header, and anywhere else it is a typo or an attack."""
    return first_control(text) is not None


def check_digest_texts(settings: DigestSettings, where: str) -> None:
    """The ``[digest]`` strings that go into headers.

    Raises:
        ConfigError: ``subject`` or ``unsubscribe`` holds a control character.
    """
    for key in ("subject", "unsubscribe"):
        if has_control(getattr(settings, key)):
            raise ConfigError(
                f"{where}: [digest] {key} holds a control character (a line break?); remove it"
            )


def valid_address(text: str) -> bool:
    """A plain address, whole: fullmatch, since ``$`` also matched before a trailing newline and
    let ``ana@example.org\\n`` through to crash the send."""
    return EMAIL.fullmatch(text) is not None


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""
    filter: str = ""  # the search query syntax; empty: every relevant article
    lang: str = "en"  # en or zh: which headlines come first when a story has both
    timezone: str = "UTC"
    send_empty: bool = False  # a one-line "nothing new" mail when the window is empty
    # Alerts within the fetch's run (tracker alerts): queries in the search syntax, such as
    # "entity:smic" or "company:nvidia chip:h200"; articles need this relevance (official
    # documents and list events always alert).
    watch: tuple[str, ...] = ()
    alert_relevance: float = 0.5
    webhook: str = ""  # alerts also POSTed here as JSON ({"text": ...}: Slack, Teams)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class DigestSettings:
    subject: str = "Export controls digest"
    max_stories: int = 12  # top stories, across themes
    max_other: int = 20  # "everything else that matched"
    window_hours: float = 24.0  # a first digest (no earlier one) covers this much
    max_window_days: float = 14.0  # a recipient failing for weeks gets the last 14 days, not all
    # News is dated by publication: an article found in the window but published more than
    # late_hours before it is not today's news. Up to found_late_days old it is one line under
    # "Found late"; older, it is left out (and not offered again).
    late_hours: float = 24.0
    found_late_days: float = 14.0
    unsubscribe: str = ""  # List-Unsubscribe target; default: mailto the sender
    subscribers: tuple[Subscriber, ...] = field(default_factory=tuple)

    def subscriber(self, email: str) -> Subscriber | None:
        """The subscriber with this address (case does not matter), or None."""
        return next((s for s in self.subscribers if s.email.lower() == email.lower()), None)

    def preview_subscriber(self) -> Subscriber:
        """Whose digest a preview shows: the first subscriber's, else everything's."""
        return self.subscribers[0] if self.subscribers else Subscriber(email=PREVIEW_EMAIL)


PREVIEW_EMAIL = "you@localhost"  # a preview with no subscriber configured


def parse_subscribers(raw: Any, where: str) -> tuple[Subscriber, ...]:
    """Check the ``[[digest.subscribers]]`` tables (the other ``[digest]`` keys are checked with
    the rest of tracker.toml, in :mod:`tracker.config.load`).

    Raises:
        ConfigError: an unknown key, a wrong type, a bad address, filter or time zone, or an
            address subscribed twice; the message names the subscriber.
    """
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: subscribers go in [[digest.subscribers]] tables")
    parsed = tuple(_subscriber(s, i, where) for i, s in enumerate(raw, 1))
    seen: set[str] = set()
    for sub in parsed:
        if sub.email.lower() in seen:
            raise ConfigError(f"{where}: {sub.email} is subscribed twice; keep one entry")
        seen.add(sub.email.lower())
    return parsed


def _subscriber(raw: Any, index: int, where: str) -> Subscriber:
    label = f"[[digest.subscribers]] #{index}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {label} must be a table")
    known = {f.name: f for f in fields(Subscriber)}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"{where}: {label} has unknown key {key!r}; known keys: {', '.join(known)}"
            )
        expected: type | tuple[type, ...] = str
        if key == "send_empty":
            expected = bool
        elif key == "watch":
            expected = list
        elif key == "alert_relevance":
            expected = (int, float)
        if not isinstance(value, expected) or (isinstance(value, bool) and key != "send_empty"):
            raise ConfigError(f"{where}: {label}: {key} = {value!r} has the wrong type")
    email = raw.get("email", "")
    if not valid_address(email):
        raise ConfigError(f"{where}: {label} needs a valid email, not {email!r}")
    for key in ("name", "filter"):
        if has_control(raw.get(key, "")):
            raise ConfigError(
                f"{where}: {label}: {key} holds a control character (a line break?); remove it"
            )
    label = f"subscriber {email}"
    watch = raw.get("watch", [])
    for entry in watch:
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigError(f"{where}: {label}: watch entries are queries, not {entry!r}")
        try:
            parse_query(entry)
        except QueryError as exc:
            raise ConfigError(f"{where}: {label}: watch entry {entry!r}: {exc}") from None
    hook = raw.get("webhook", "")
    if hook and not re.match(r"https?://[^\s/]+", hook):
        raise ConfigError(f"{where}: {label}: webhook must be an http(s) URL, not {hook!r}")
    if not 0 <= raw.get("alert_relevance", 0.5) <= 1:
        raise ConfigError(f"{where}: {label}: alert_relevance must be between 0 and 1")
    sub = Subscriber(**{**raw, "watch": tuple(watch)})
    if sub.lang not in ("en", "zh"):
        raise ConfigError(f"{where}: {label}: lang must be en or zh")
    try:
        sub.zone  # noqa: B018  (checked now, not at 7 am in cron)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: {label}: unknown time zone {sub.timezone!r}; use a name like Europe/Berlin"
        ) from None
    if sub.filter.strip():
        try:
            parse_query(sub.filter)
        except QueryError as exc:
            raise ConfigError(f"{where}: {label}: filter: {exc}") from None
    return sub
