"""A digest as mail: subject, HTML part and plain-text part (Jinja2 templates in templates/)."""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import UTC, datetime

import jinja2

from tracker.config.digest import DigestSettings
from tracker.digest.build import Digest, Item
from tracker.record.ics import label as deadline_label
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
    env.filters["dated"] = _dated
    env.filters["font"] = font_stack
    # Only http(s) links are links: a javascript: or data: URL from a feed becomes nothing.
    env.filters["href"] = lambda url: safe_href(url) or ""
    env.filters["wrap"] = lambda text: "\n".join("  " + line for line in wrap_cells(text, 74))
    env.filters["bars"] = movement_lines
    env.filters["deadline_label"] = lambda d: deadline_label(d.kind, d.lang)
    return env


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y %H:%M") if moment else ""


def _dated(item: Item) -> str:
    """An item's date: a day alone when it was published on a day with no time given."""
    if item.published is None:
        return ""
    if item.date_only:
        return item.published.astimezone(UTC).strftime("%d %b %Y")
    return _when(item.published)


# Fonts that draw each script with its own glyph shapes (lang= picks among them where one font
# covers both, as Noto CJK does); the platforms' defaults follow, then any sans-serif.
LATIN = "Arial,Helvetica"
FONTS = {
    "zh-Hans": "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC',"
    "'Hiragino Sans GB','Microsoft YaHei'",
    "zh-Hant": "'Noto Sans CJK TC','Noto Sans TC','Source Han Sans TC','PingFang TC',"
    "'Hiragino Sans CNS','Microsoft JhengHei'",
}


def font_stack(lang: str) -> str:
    """The CSS font-family for text in ``lang`` (``zh-Hans``, ``zh-Hant`` or anything else)."""
    if lang in FONTS:
        return f"{LATIN},{FONTS[lang]},sans-serif"
    return f"{LATIN},{FONTS['zh-Hans']},{FONTS['zh-Hant']},sans-serif"


def _cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap_cells(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` terminal cells, broken between words, or between two Chinese
    characters (which have no spaces between them); never inside a Latin word that fits."""
    tokens = re.findall(
        r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef][，。、；：！？）」』”]*|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+",
        text,
    )
    lines: list[str] = []
    line = ""
    size = 0
    for token in tokens:
        if token.isspace():
            if line:
                line += " "
                size += 1
            continue
        cells = sum(_cells(c) for c in token)
        if size + cells > width and line.strip():
            lines.append(line.rstrip())
            line, size = "", 0
        line += token
        size += cells
    if line.strip():
        lines.append(line.rstrip())
    return lines


def movement_lines(digest: Digest, width: int = 76) -> list[str]:
    """The movement chart as text: whole tag names (a long one gets its own line, the bar
    under it), a bar scaled to the largest count, the count and the pace it beat."""
    moves = digest.movement
    if not moves:
        return []
    top = max(m.count for m in moves)
    label = min(max(len(m.name) for m in moves), 30)
    out = []
    for m in moves:
        note = f"{m.count} new" if m.new else f"{m.count} (7-day pace {m.expected:.1f})"
        room = max(4, width - label - 2 - len(note))
        bar = "#" * max(1, m.count * room // top)
        if len(m.name) > label:
            out.append(m.name)
            out.append(f"{'':<{label}} {bar} {note}")
        else:
            out.append(f"{m.name:<{label}} {bar} {note}")
    return out


def subject(digest: Digest, settings: DigestSettings) -> str:
    """The subject leads with the day's biggest item, then what else the mail holds."""
    day = digest.end.strftime("%d %b %Y")
    lead = digest.lead
    if digest.empty or lead is None:
        return f"{settings.subject}, {day}: nothing new"
    parts = []
    if digest.official:
        n = len(digest.official)
        parts.append(f"{n} official action{'s' if n != 1 else ''}")
    n = len(digest.stories)
    parts.append(f"{n} stor{'ies' if n != 1 else 'y'}")
    title = lead.title if len(lead.title) <= 90 else lead.title[:89].rsplit(" ", 1)[0] + "…"
    return f"{settings.subject}, {day}: {title} ({', '.join(parts)})"


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
