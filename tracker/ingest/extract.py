"""Article pages to clean fields, with trafilatura: title, main text, author, date, language hint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import trafilatura
from trafilatura.settings import use_config

from tracker.textnorm import HAN_RE, clean_text

# trafilatura falls back to a crude whole-page extractor below 250 characters of main text; a short
# Chinese article (three sentences carry as much as 600 English characters) then comes back with its
# byline and headline fused into the body. 80 keeps real articles on the precise path.
_CONFIG = use_config()
_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", "80")

# Below this much text the "article" is a menu or a JS shell's leftovers ("Home", "Loading...").
# A Han character counts three: it carries about as much as three Latin letters.
MIN_TEXT_WEIGHT = 50

HTML_LANG = re.compile(
    r"""<html[^>]*?\slang\s*=\s*["']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)""", re.I
)


@dataclass
class Extracted:
    """What an article page said about itself. ``published_on`` is a day: pages rarely give times."""

    title: str
    text: str
    author: str
    published_on: date | None
    lang_hint: str | None


def extract_article(html: str, url: str, *, today: date | None = None) -> Extracted | None:
    """Main text and metadata of the article page ``html``; None when there is no main text.

    Args:
        html: the decoded page.
        url: its URL, which trafilatura uses for relative links and as a weak date clue.
        today: dates after this are rejected as bogus (a page's "updated" widget, a typo).
    """
    doc = run_trafilatura(html, url)
    if isinstance(doc, dict):  # only with as_dict=True, which we never pass
        raise TypeError("trafilatura returned a dict")
    if doc is None or _weight(doc.text or "") < MIN_TEXT_WEIGHT:
        return None
    title = (doc.title or "").strip()
    text = clean_text(doc.text or "")
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest:
        text = rest  # trafilatura keeps the <h1> as the first line; the title is stored apart
    published = _parse_day(doc.date)
    if published and today and published > today:
        published = None
    lang_match = HTML_LANG.search(html[:5000])
    return Extracted(
        title=title,
        text=text,
        author=(doc.author or "").strip(),
        published_on=published,
        lang_hint=lang_match.group(1).replace("_", "-") if lang_match else None,
    )


def run_trafilatura(html: str, url: str) -> Any:
    """trafilatura's own extraction, exactly as the pipeline calls it (benchmarks use it as the baseline)."""
    return trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        config=_CONFIG,
        include_comments=False,
        include_tables=True,
        # The page's own metadata only: htmldate's extensive search mines body text ("since 2019") and,
        # given a future date, silently substitutes such a guess. We see the claim and judge it.
        date_extraction_params={
            "extensive_search": False,
            "original_date": True,
            "max_date": "2099-12-31",
        },
    )


def merge_published(
    page_day: date | None, feed_time: datetime | None, now: datetime
) -> datetime | None:
    """The best publication time: the page's day (with the feed's time of day when they agree).

    The page's own metadata wins over the feed, which some sites stamp with the crawl time; neither
    may lie in the future.
    """
    if feed_time is not None and feed_time > now:
        feed_time = None
    if page_day is None:
        return feed_time
    if feed_time is not None and feed_time.date() == page_day:
        return feed_time
    return datetime(page_day.year, page_day.month, page_day.day, tzinfo=UTC)


def _weight(text: str) -> int:
    """Text weight, counted on a prefix only: the answer is only ever compared with a small floor."""
    head = "".join(text[: MIN_TEXT_WEIGHT * 4].split())
    return len(head) + 2 * len(HAN_RE.findall(head))


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
