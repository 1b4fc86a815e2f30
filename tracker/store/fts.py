"""What goes into the full-text index for an article: the index forms of its title and text, the
final characters of its Han runs, and its tags as tokens weighted by where and how often.

The index is contentless (it keeps no copy of these columns), so removing an article's row means
handing FTS5 the very values that were indexed: these functions must give the same output for the
same article. A change to them (or to :func:`tracker.textnorm.index_form`) needs a migration that
rebuilds the index, as m005 and m007 do.
"""

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
    for tag_id, count, in_title in sorted(tags):  # sorted: a row must be rebuilt token for token
        token = tag_token(tag_id)
        tokens += [token] * (1 + (count > 1) + 2 * bool(in_title))
    return " ".join(tokens)
