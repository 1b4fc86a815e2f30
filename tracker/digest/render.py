"""A digest as mail: subject, HTML part and plain-text part (Jinja2 templates in templates/)."""

from __future__ import annotations

import functools
import textwrap
from datetime import datetime

import jinja2

from tracker.config.digest import DigestSettings
from tracker.digest.build import Digest
from tracker.urls import safe_href


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracker.digest", "templates"),
        # Titles come from the web: everything in the HTML part is escaped unless marked safe.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["when"] = _when
    # Only http(s) links are links: a javascript: or data: URL from a feed becomes nothing.
    env.filters["href"] = lambda url: safe_href(url) or ""
    env.filters["wrap"] = lambda text: textwrap.fill(
        text, width=76, initial_indent="  ", subsequent_indent="  "
    )
    return env


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y %H:%M") if moment else ""


def subject(digest: Digest, settings: DigestSettings) -> str:
    day = digest.end.strftime("%d %b %Y")
    if digest.empty:
        return f"{settings.subject}, {day}: nothing new"
    parts = []
    if digest.official:
        n = len(digest.official)
        parts.append(f"{n} official action{'s' if n != 1 else ''}")
    n = len(digest.stories)
    parts.append(f"{n} stor{'ies' if n != 1 else 'y'}")
    lead = (digest.official or digest.stories or digest.other)[0].title
    return f"{settings.subject}, {day}: {', '.join(parts)} | {lead[:80]}"


def _context(digest: Digest, settings: DigestSettings, unsubscribe: str) -> dict[str, object]:
    return {
        "digest": digest,
        "settings": settings,
        "subject": subject(digest, settings),
        "unsubscribe": unsubscribe,
        "max_move": max((m.count for m in digest.movement), default=1),
    }


def render_html(digest: Digest, settings: DigestSettings, unsubscribe: str = "") -> str:
    return (
        _environment()
        .get_template("digest.html.j2")
        .render(_context(digest, settings, unsubscribe))
    )


def render_text(digest: Digest, settings: DigestSettings, unsubscribe: str = "") -> str:
    text = (
        _environment().get_template("digest.txt.j2").render(_context(digest, settings, unsubscribe))
    )
    # Blank lines from skipped blocks: never more than one in a row.
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"
