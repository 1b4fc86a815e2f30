"""Tag articles with vocabulary entries in one Aho-Corasick pass over folded text.

Folding (see :mod:`tracker.textnorm`) makes one alias serve every script and case. Latin aliases
must stand as whole tokens, so ``H20`` is not found in ``H200`` but is found in ``英伟达H20芯片``.
Where aliases overlap, the leftmost-longest match wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from tracker.models import TagHit
from tracker.textnorm import fold, nfkc, to_simplified
from tracker.vocabulary import Entry


@dataclass(frozen=True)
class _Pattern:
    entry: Entry | None  # None for a stop phrase: it claims its span and tags nothing
    length: int
    cased: str | None  # the exact-case form, for cased aliases


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


class Tagger:
    """Built once per vocabulary (building the automaton is the costly part), then reused."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._automaton = ahocorasick.Automaton()
        patterns: dict[str, list[_Pattern]] = {}
        for entry in self.entries:
            for alias in entry.aliases:
                key = fold(alias)
                patterns.setdefault(key, []).append(_Pattern(entry, len(key), None))
            for alias in entry.cased:
                key = fold(alias)
                cased = to_simplified(nfkc(alias))
                patterns.setdefault(key, []).append(_Pattern(entry, len(key), cased))
            for phrase in entry.stop:
                key = fold(phrase)
                patterns.setdefault(key, []).append(_Pattern(None, len(key), None))
        for key, pats in patterns.items():
            self._automaton.add_word(key, (key, tuple(pats)))
        if patterns:
            self._automaton.make_automaton()
        self._empty = not patterns

    def tag(self, title: str, text: str) -> list[TagHit]:
        """Tags of an article: per entry, how often it occurs and whether the title names it."""
        in_title = self._find(title)
        in_body = self._find(text)
        hits = []
        for tag_id in in_title.keys() | in_body.keys():
            entry = (in_title.get(tag_id) or in_body[tag_id])[0]
            count = len(in_title.get(tag_id, ())) + len(in_body.get(tag_id, ()))
            hits.append(TagHit(entry.kind, entry.slug, entry.name, count, tag_id in in_title))
        return sorted(hits, key=lambda h: (h.kind, h.slug))

    def _find(self, text: str) -> dict[str, list[Entry]]:
        if not text or self._empty:
            return {}
        cased_text = to_simplified(nfkc(text))
        folded = cased_text.lower()
        aligned = len(folded) == len(cased_text)
        spans: list[tuple[int, int, _Pattern]] = []
        for end, (key, pats) in self._automaton.iter(folded):
            start = end - len(key) + 1
            if not self._boundaries_ok(folded, start, end, key):
                continue
            for pat in pats:
                if pat.cased is not None and (
                    not aligned or cased_text[start : end + 1] != pat.cased
                ):
                    continue
                spans.append((start, end, pat))
        # Leftmost-longest: sort by start, longest first, and keep spans that do not overlap.
        spans.sort(key=lambda s: (s[0], -s[2].length))
        found: dict[str, list[Entry]] = {}
        taken_until = -1
        claimed: tuple[int, int] | None = None
        for start, end, pat in spans:
            if start <= taken_until and (start, end) != claimed:
                continue
            taken_until, claimed = end, (start, end)
            if pat.entry is not None:
                found.setdefault(pat.entry.tag_id, []).append(pat.entry)
        return found

    @staticmethod
    def _boundaries_ok(text: str, start: int, end: int, key: str) -> bool:
        if _is_word_char(key[0]) and start > 0 and _is_word_char(text[start - 1]):
            return False
        return not (_is_word_char(key[-1]) and end + 1 < len(text) and _is_word_char(text[end + 1]))
