"""What goes into the full-text index for an article: the index forms of its title and text, the
final characters of its Han runs, and its tags as tokens weighted by where and how often."""

from __future__ import annotations

from collections.abc import Iterable

from tracker.textnorm import index_form, tag_token, tail_chars


def fts_row(title: str, text: str) -> tuple[str, str, str]:
    """(title, body, tails) columns of the index."""
    return index_form(title), index_form(text), f"{tail_chars(title)} {tail_chars(text)}"


def tag_text(tags: Iterable[tuple[str, int, bool | int]]) -> str:
    """The ``tags`` column: each tag's token once, again if mentioned more than once, and twice
    more if the title names it, so bm25 ranks "about Nvidia" above "mentions Nvidia once"."""
    tokens = []
    for tag_id, count, in_title in tags:
        token = tag_token(tag_id)
        tokens += [token] * (1 + (count > 1) + 2 * bool(in_title))
    return " ".join(tokens)
