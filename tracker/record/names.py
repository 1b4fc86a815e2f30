"""Names as the lists and the news write them, folded so one organisation's spellings meet.

Folding: the text's matching form (:func:`tracker.textnorm.fold`: width, case, traditional to
simplified), then legal suffixes (Co., Ltd., Corporation, 有限公司, 股份有限公司 ...) and
punctuation dropped. A name too short to stand alone once folded ("AB", one Chinese character)
never matches by itself: it would swallow every name it is part of.
"""

from __future__ import annotations

import re

from tracker.textnorm import HAN_RE, fold

LATIN_LEGAL = re.compile(
    r"\b(?:co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|jsc|pte"
    r"|pvt|bhd|srl|bv|nv|oy|ab|kg|kk)\b\.?",
)
CHINESE_LEGAL = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "公司")
PUNCTUATION = re.compile(r"[^\w\s]|_")


def normalise(text: str) -> str:
    """Text in the form names are matched in: folded, punctuation and Latin legal suffixes gone,
    single spaces (an article's text goes through this too, so both sides line up)."""
    text = PUNCTUATION.sub(" ", fold(text))
    text = LATIN_LEGAL.sub(" ", text)
    return " ".join(text.split())


def fold_name(name: str) -> str | None:
    """The matching key of an organisation's name, or None when too short to match alone."""
    text = fold(name)
    for suffix in CHINESE_LEGAL:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    text = normalise(text)
    han = len(HAN_RE.findall(text))
    if han >= 2 or (han == 0 and len(text.replace(" ", "")) >= 4):
        return text
    return None


def name_keys(names: list[str] | tuple[str, ...]) -> list[str]:
    """The distinct matching keys of a list of names."""
    return list(dict.fromkeys(k for n in names if (k := fold_name(n))))
