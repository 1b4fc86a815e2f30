"""Names as the lists and the news write them, folded so one organisation's spellings meet.

Folding: the text's matching form (:func:`tracker.textnorm.fold`: width, case, traditional to
simplified), then legal suffixes (Co., Ltd., Corporation, 有限公司, 股份有限公司 ...) and
punctuation dropped, and one trailing descriptor (Technologies, Group, 科技, 集团). A name
too short to stand alone once folded ("AB", one Chinese character) never matches
by itself: it would swallow every name it is part of.
"""

from __future__ import annotations

import re
import string

from tracker.textnorm import HAN_RE, fold

# Legal forms, as words once punctuation is gone ("Co., Ltd." -> "co ltd").
_LEGAL_WORDS = "co company corp corporation inc incorporated ltd limited llc plc gmbh ag sa jsc pte"
LATIN_LEGAL = frozenset(f"{_LEGAL_WORDS} pvt bhd srl bv nv oy ab kg kk".split())
_ASCII_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation, " "))
CHINESE_LEGAL = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "公司")
# Trailing words that describe rather than name ("Huawei Technologies" is Huawei, "Yangtze Memory
# Technologies" the vocabulary's Yangtze Memory); dropped once, when enough name is left.
LATIN_DESCRIPTORS = ("technologies", "technology", "tech", "group", "holdings", "holding")
CHINESE_DESCRIPTORS = ("科技", "技术", "集团", "控股")
PUNCTUATION = re.compile(r"[^\w\s]+|_+")


def normalise(text: str) -> str:
    """Text in the form names are matched in: folded, punctuation and Latin legal suffixes gone,
    single spaces (an article's text goes through this too, so both sides line up)."""
    # A translate table and a word filter where they can, rather than regular expressions:
    # every article's text goes through this (English text three times faster).
    text = fold(text)
    # (str.translate is slow on wide strings, where one regular expression is not.)
    words = (
        text.translate(_ASCII_PUNCTUATION) if text.isascii() else PUNCTUATION.sub(" ", text)
    ).split()
    if LATIN_LEGAL.isdisjoint(words):
        return " ".join(words)
    return " ".join(w for w in words if w not in LATIN_LEGAL)


def fold_name(name: str, core: bool = True) -> str | None:
    """The matching key of an organisation's name, or None when too short to match alone;
    ``core=False`` keeps a trailing descriptor (旷视科技 rather than 旷视)."""
    text = fold(name)
    for suffix in CHINESE_LEGAL:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    text = normalise(text)
    if core:
        text = _core(text)
    han = len(HAN_RE.findall(text))
    if han >= 2 or (han == 0 and len(text.replace(" ", "")) >= 4):
        return text
    return None


def name_keys(names: list[str] | tuple[str, ...]) -> list[str]:
    """The distinct matching keys of a list of names: each name's core, and its full form where
    that differs (a short core such as 旷视 cannot link an article alone; 旷视科技 can)."""
    keys = (fold_name(n, core) for n in names for core in (True, False))
    return list(dict.fromkeys(k for k in keys if k))


def _core(key: str) -> str:
    words = key.split()
    if len(words) > 1 and words[-1] in LATIN_DESCRIPTORS and len("".join(words[:-1])) >= 4:
        return " ".join(words[:-1])
    for suffix in CHINESE_DESCRIPTORS:
        rest = key.removesuffix(suffix)
        if rest != key and len(HAN_RE.findall(rest)) >= 2:
            return rest
    return key
