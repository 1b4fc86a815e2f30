"""Finding list names in an article's text: the second signal linking articles to entities.

Text is folded exactly as names are (:func:`tracker.record.names.normalise`), so "SEMICONDUCTOR
MANUFACTURING INTERNATIONAL CORP." and "Semiconductor Manufacturing International Corporation's"
both hold the key "semiconductor manufacturing international". Latin keys match whole words only;
where keys overlap the longest wins, so an article on "Huawei Cloud Computing Technologies" is
linked to that entry and not also to a bare "Huawei" alias inside it. A one-word Latin name
matches only when it is not a common word and the text writes it with a capital (a list alias
"Phoenix" is not "phoenix"); a Chinese name from a list needs three characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import ahocorasick

from tracker.record.names import LATIN_DESCRIPTORS, normalise
from tracker.textnorm import HAN_RE

MIN_HAN = 3  # a list's Chinese name this short is too often part of another word
MIN_ONE_WORD = 5
# One-word names too common to stand for an organisation on their own.
_GENERIC_WORDS = """
    academy alpha apex atlas beacon bridge capital center centre china delta digital eagle east
    electric electronics energy engineering enterprise enterprises express falcon first focus
    future galaxy general global golden great green group harbor harbour holdings horizon
    imports industrial industries institute international leader logistics machinery matrix
    metro micro national network nova ocean omega orient pacific partners phoenix pioneer power
    precision prime quantum royal science sciences security services shipping sigma silver
    smart solutions star summit supply systems technical technologies technology trading trust
    union united universal university vector venture victory vision west world zenith
"""
GENERIC = frozenset(_GENERIC_WORDS.split())
# Capitalised words after a one-word name that still leave it the same organisation.
ALONE_AFTER = frozenset(
    [*LATIN_DESCRIPTORS, "co", "corp", "corporation", "inc", "ltd", "limited", "llc", "plc"]
)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class NameMatcher:
    """One Aho-Corasick pass over an article's folded text for every list name."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        self.size = 0
        for key in set(keys):
            if usable(key):
                self._automaton.add_word(key, key)
                self.size += 1
        if self.size:
            self._automaton.make_automaton()

    def find(self, title: str, text: str) -> set[str]:
        """The keys named in an article, longest first where they overlap."""
        if not self.size:
            return set()
        raw = f"{title}\n{text}"
        folded = normalise(raw)
        spans = []
        for end, key in self._automaton.iter(folded):
            start = end - len(key) + 1
            # A Latin end of a name must not run on into a Latin word or figure ("H20" is not
            # in "H200"); next to Chinese it may ("示例贸易123被列入").
            if _is_latin(key[0]) and start > 0 and _is_latin(folded[start - 1]):
                continue
            if _is_latin(key[-1]) and end + 1 < len(folded) and _is_latin(folded[end + 1]):
                continue
            spans.append((start, end, key))
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        found: set[str] = set()
        reach = -1
        for start, end, key in spans:
            if start <= reach:
                continue
            if " " not in key and _is_latin(key[0]) and not _capitalised(key, raw):
                continue
            found.add(key)
            reach = end
        return found


def usable(key: str) -> bool:
    """Whether a list name may link an article by itself (see the module's rules)."""
    han = len(HAN_RE.findall(key))
    if han:
        return han >= MIN_HAN
    if " " in key:
        return True
    return len(key) >= MIN_ONE_WORD and key not in GENERIC and not key.isdigit()


def _capitalised(word: str, raw: str) -> bool:
    """Whether the text writes the one-word name as a name standing alone: with a capital
    ("Sugon", not "sugon"), and not as the first word of a longer name ("Inspur said" but not
    "Inspur Electronic Information", a company of its own; "Huawei Technologies" still is)."""
    for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)(?:'s)?(\s+[^\s]+)?", raw, re.I):
        name = m.group(0).split()[0]
        if name == name.lower():
            continue
        after = (m.group(1) or "").strip()
        if not after or not after[0].isupper():
            return True
        if re.sub(r"\W", "", after).lower() in ALONE_AFTER:
            return True
    return False
