"""What an article is about, without the vocabulary: the names, words and figures of its headline
and lead, for the ``event: names`` join (:mod:`tracker.stories.match`).

Three kinds of term, each a short string with a one-character prefix:

* ``N`` names: in Latin script, words written with a capital where a sentence does not ask for
  one (``Kushiro``, ``Nordair``, ``RBNZ``), in any language's text (a Chinese report keeps
  ``Corvel`` and ``NASA``);
* ``W`` words: the other Latin words (stop words dropped, a crude stem), and Han character pairs
  (Chinese has no capitals to tell a name, so every pair is a word; the store's rarity weights
  them);
* ``F`` figures: amounts and percentages as :func:`similarity.numbers` reads them (``$2.3
  billion`` = ``23亿美元``), and the other numbers as written (``6.4``, ``7``).

Rarity comes from the store itself (:class:`Rarity`): a term in few stored articles weighs more.
Pure functions; the counts are kept by :mod:`tracker.store.stories`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tracker.stories.similarity import MONTH, SCALES, amount_text
from tracker.textnorm import HAN, HAN_RE, to_simplified_chars

LEAD_CHARS = 600  # characters of the body read after the headline: who, what, where, when
LEAD_HAN = 160  # Han characters of the body: a Chinese lead says as much in fewer characters

_LATIN = "A-Za-z\u00c0-\u024f"
_ENDS = frozenset('.!?:;"“”‘’([-–—')  # after these (and a line break), a capital says nothing
# A number as written, with what follows it: a percent or a scale (read as an amount, as
# similarity.numbers reads them, so 23亿 = 2.3 billion), 日/号/月/年 (a date, not a figure of the
# event), or nothing that makes it part of a name (H20, 5G). A number a comma or full stop
# follows is not read (the rules were measured so; "rose to 46." is lost, see docs/stories.md).
_FIGURE = re.compile(
    r"(?<![A-Za-z\d.,])(\d+(?:[.,]\d+)*)(?:\s*(%|％|percent\b|per cent\b|trillion\b|billion\b"
    r"|million\b|bn\b|mn\b|m\b|万亿|亿|万|日|号|月|年)|(?![A-Za-z\d.,]))",
    re.IGNORECASE,
)
_PERCENT = frozenset(("%", "％", "percent", "per cent"))
# "Oct 14", "14 October": the day says when (a dateline), not what. Looked for only around the
# few short numbers found, not over the whole lead.
_MONTH_BEFORE = re.compile(rf"\b(?:{MONTH})\.?\s+$", re.IGNORECASE)
_MONTH_AFTER = re.compile(rf"\s+(?:{MONTH})\b", re.IGNORECASE)
_STOP = frozenset(
    re.findall(
        r"\S+",
        """a about after against ago all also am amid an and any are around as at be been before
        being but by can could did do does during each either for from had has have he her here
        him his how i if in into is it its just last more most my new no nor not now of off on once
        one only or other our out over own per said says same she should since so some such than
        that the their them then there these they this those through to too under until up upon us
        very was we were what when where which while who whom why will with within would yet you
        your according""",
    )
)
# Capitalised by rule, not because they name anything.
_CALENDAR = frozenset(
    re.findall(
        r"\S+",
        """monday tuesday wednesday thursday friday saturday sunday january february march april
        may june july august september october november december""",
    )
)


@functools.lru_cache(maxsize=200_000)  # words repeat: stem each once per process
def _stem(word: str) -> str:
    """A crude English stem: enough that "recalls", "recalled" and "recalling" agree."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if suffix == "s" and word[-2:-1] in ("s", "u", "i"):
            continue  # glass, virus, analysis: not plurals
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            # "cancelled", "stopped": the doubled consonant goes too
            if suffix in ("ing", "ed") and len(stem) > 3 and stem[-1] == stem[-2] not in "aeiouls":
                stem = stem[:-1]
            return stem
    return word


# A Latin word, found from its first letter (a letter right after a digit, as in 5nm or 10am,
# begins no word: units and times say nothing of the event). Lower-case words, most of a text,
# are collected without asking where they stand; capitalised ones need their position. A code
# that starts with a digit and has capitals (3A090, 5G) is a name.
_AFTER = rf"(?<![{_LATIN}\d])(?<![{_LATIN}]['’])"
_REST = rf"[{_LATIN}\d]*"
_LOWER_WORD = re.compile(rf"{_AFTER}[a-z\u00df-\u00ff]{_REST}")
_OTHER_WORD = re.compile(rf"{_AFTER}[A-Z\u00c0-\u00de\u0100-\u024f]{_REST}(?:['’][{_LATIN}]+)?")
_CODE = re.compile(rf"\d(?<![{_LATIN}\d.,]\d)\d*[A-Z][A-Z\d]*(?![{_LATIN}\d])")


def _clean(token: str) -> str:
    low = token.lower()
    if "'" in low or "’" in low:
        low = low.replace("’", "'").removesuffix("'s")
    return low


def _latin_terms(text: str, names: set[str], words: set[str], titlecase: bool) -> None:
    """Names and words of a Latin-script passage (its Han runs and numbers are skipped here)."""
    # Lower-case words in bulk (one lower() for all; "don't" reads as "don", "n't" says nothing).
    lower = set(" ".join(_LOWER_WORD.findall(text)).lower().split())
    words.update(w for w in lower - _STOP if len(w) > 1)
    names.update(code.lower() for code in _CODE.findall(text))
    capitalised: list[tuple[str, bool]] = []  # (lower-cased, at a sentence start)
    inside: set[str] = set()  # capitalised somewhere a sentence does not ask for it
    for m in _OTHER_WORD.finditer(text):
        token = m.group()
        low = _clean(token)
        if len(low) < 2 or low in _STOP:
            continue
        if not token[0].isupper():  # a lower-case letter of Latin Extended
            words.add(low)
            continue
        if token.isupper():  # an acronym (two letters at least: short ones were dropped)
            (words if low in _CALENDAR else names).add(low)
            continue
        at = m.start()
        before = text[max(0, at - 3) : at]
        kept = before.rstrip()
        start = "\n" in before or not kept or kept[-1] in _ENDS
        capitalised.append((low, start))
        if not start:
            inside.add(low)
    for low, start in capitalised:
        if low in _CALENDAR:
            words.add(low)
        elif not titlecase and (not start or low in inside):
            names.add(low)
        else:
            words.add(low)


_HAN_RUN = re.compile(rf"[{HAN}]+")


def _han_pairs(text: str, words: set[str], limit: int) -> None:
    seen = 0
    for run in _HAN_RUN.findall(text):
        run = run[: max(0, limit - seen)]
        seen += len(run)
        words.update(run[i : i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            words.add(run)
        if seen >= limit:
            break


def _is_titlecase(title: str) -> bool:
    """A Headline In Title Case capitalises everything, so its capitals say nothing."""
    latin = [t for t in re.findall(rf"[{_LATIN}]+", title) if t.lower() not in _STOP]
    return len(latin) >= 3 and sum(t[0].isupper() for t in latin) >= 0.8 * len(latin)


def _figures(text: str) -> set[str]:
    found = set()
    for m in _FIGURE.finditer(text):
        written, unit = m.group(1).replace(",", ""), (m.group(2) or "").lower()
        try:
            value = float(written)
        except ValueError:
            continue
        if unit in _PERCENT:
            found.add(f"#{value:g}%")
        elif unit in SCALES:
            found.add(f"#{amount_text(value * SCALES[unit])}")  # as numbers() keeps amounts
        elif unit:
            continue  # 16日, 3月, 2025年: when, not what
        elif 1900 <= value <= 2100 and "." not in written:
            continue  # years say when, not what
        elif len(written) <= 2 and (
            _MONTH_BEFORE.search(text, max(0, m.start() - 12), m.start())
            or _MONTH_AFTER.match(text, m.end())
        ):
            continue  # a day of the month
        else:
            # an amount and a count of the same size are one figure (86,000 SUVs = 8.6万辆)
            found.add(f"#{value:g}")
    return found


@dataclass(frozen=True, slots=True)
class Terms:
    """An article's terms: ``all`` of headline and lead, and the ``names`` among them. A word is
    one term whether or not it was written as a name."""

    all: frozenset[str]
    names: frozenset[str]


def article_terms(title: str, text: str) -> Terms:
    """The terms of an article's headline and lead (see the module docstring)."""
    body = text[:LEAD_CHARS]
    # Most articles have no Han at all: then nothing is converted, counted or paired.
    han = bool(HAN_RE.search(title) or HAN_RE.search(body))
    if han:
        title = to_simplified_chars(title)
        body = to_simplified_chars(body)
        if len(HAN_RE.findall(body)) > len(body) // 3:
            body = body[: LEAD_HAN + 40]
    names: set[str] = set()
    words: set[str] = set()
    body_names: set[str] = set()
    _latin_terms(body, body_names, words, titlecase=False)
    titlecase = _is_titlecase(title)
    title_names: set[str] = set()
    title_words: set[str] = set()
    _latin_terms(title, title_names, title_words, titlecase)
    if titlecase:  # a title-case word is a name when the body writes it as one
        title_names |= {w for w in title_words if w in body_names}
    names = body_names | title_names
    words |= {w for w in title_words if w not in names}
    words -= names
    headline = {_stem(w) for w in title_words | title_names}
    if han:
        _han_pairs(title, headline, LEAD_HAN)
        _han_pairs(body, words, LEAD_HAN)
    stemmed_names = {_stem(n) for n in names}
    every = {_stem(w) for w in words} | stemmed_names | headline | _figures(f"{title}\n{body}")
    return Terms(frozenset(every), frozenset(stemmed_names))


MIN_ARTICLES = 1000


class Rarity:
    """How rare each term is among the articles counted so far (inverse document frequency).

    ``counts`` holds document frequencies and ``total`` the articles counted; both grow as
    articles are placed, in time order, so placement and the rebuild weigh alike. Weights are
    remembered until the counts grow.
    """

    def __init__(self, counts: Mapping[str, int], total: int) -> None:
        self.counts = counts
        self.total = total
        self._weights: dict[str, float] = {}

    def grew(self, articles: int) -> None:
        """``articles`` more were counted (their terms already added to ``counts``)."""
        self.total += articles
        self._weights.clear()

    def weight(self, term: str) -> float:
        w = self._weights.get(term)
        if w is None:
            df = self.counts.get(term, 0)
            # A young store has seen few articles: counted as if it had MIN_ARTICLES, so two
            # reports of one event in a store of two do not make their shared names "common".
            articles = max(self.total, MIN_ARTICLES)
            w = self._weights[term] = max(0.0, math.log((articles + 1) / (df + 0.5)))
        return w

    def total_weight(self, terms: Iterable[str]) -> float:
        return sum(self.weight(t) for t in terms)

    def cosine(self, a: frozenset[str], b: frozenset[str]) -> float:
        """Cosine of the two term sets, each term weighted by its rarity."""
        shared = a & b
        if not shared:
            return 0.0
        weight = self.weight
        num = sum(weight(t) ** 2 for t in shared)
        den = math.sqrt(sum(weight(t) ** 2 for t in a) * sum(weight(t) ** 2 for t in b))
        return num / den if den else 0.0
