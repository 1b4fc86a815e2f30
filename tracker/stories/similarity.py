"""What two articles share: near-identical text (MinHash), numbers, document numbers, headline words.

Pure functions over text; :mod:`tracker.stories.match` decides what counts as the same story.

Text is folded first (simplified script, lower case), so a Big5 copy of a GB18030 page has the same
shingles. Shingles are runs of tokens where a token is a Latin word or one Han character: Chinese
has no spaces, and characters are the unit a rewrite keeps.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from tracker.textnorm import HAN, fold_chars

PERMUTATIONS = 60
BANDS = (
    20  # 20 bands of 3 rows: a pair with Jaccard 0.5 becomes a candidate 93% of the time, 0.6: 99%
)
ROWS = PERMUTATIONS // BANDS
SHINGLE_LATIN = 5  # words
SHINGLE_TOKENS = 600  # tokens (words or Han characters) read from the start of the text
SHINGLE_HAN = 4  # characters (a Chinese word is 1-4 characters; 4 keeps common pairs apart)

_TOKEN_HASHES: dict[str, int] = {}  # token -> crc32: words repeat, hashing them again costs
_TOKEN = re.compile(rf"[{HAN}]|[^\W_]+", re.UNICODE)
_HAN_ONLY = re.compile(rf"[{HAN}]")


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Fixed seed: signatures are stored, so every process must draw the same hash functions.
    rng = np.random.default_rng(20261130)
    a = rng.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)
    return a, b


def shingles(text: str, *, folded: bool = False) -> np.ndarray:
    """32-bit hashes of the text's token runs (words for Latin text, characters for Han), unique.

    ``folded``: the text is already folded (``textnorm.fold_chars``).
    """
    if not folded:
        text = fold_chars(text)
    # The opening of an article is enough to tell a copy: syndicated copies share the lede and
    # differ in what the outlet appends, and hashing all of a long article costs.
    tokens = _TOKEN.findall(text)[:SHINGLE_TOKENS]
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    han = (
        sum(1 for t in tokens if len(t) == 1 and _HAN_ONLY.match(t))
        if _HAN_ONLY.search(text)
        else 0
    )
    width = SHINGLE_HAN if han * 2 > len(tokens) else SHINGLE_LATIN
    # Hash each distinct token once, then combine each run of `width` token hashes polynomially,
    # in numpy: a hash per token, not a string and a hash per shingle.
    cache = _TOKEN_HASHES
    if len(cache) > 500_000:
        cache.clear()
    for t in set(tokens).difference(cache):
        cache[t] = zlib.crc32(t.encode())
    h = np.array(list(map(cache.__getitem__, tokens)), dtype=np.uint64)
    if len(h) <= width:
        width = len(h)
    count = len(h) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(width):
            combined = combined * np.uint64(1_000_003) + h[k : k + count]
    return np.unique(combined & np.uint64(0xFFFFFFFF))


def minhash(hashes: np.ndarray) -> bytes:
    """A MinHash signature (``PERMUTATIONS`` uint32 values) of shingle hashes; none: b''."""
    if not len(hashes):
        return b""
    a, b = _permutations()
    x = hashes.astype(np.uint64)
    # Multiply-shift hashing: (a*x + b) mod 2**64, top 32 bits. Wrapping is the point.
    with np.errstate(over="ignore"):
        mixed = (a[:, None] * x[None, :] + b[:, None]) >> np.uint64(32)
    return bytes(mixed.min(axis=1).astype(np.uint32).tobytes())


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity of the two shingle sets behind the signatures."""
    if not sig_a or not sig_b or len(sig_a) != len(sig_b):
        return 0.0
    x = np.frombuffer(sig_a, dtype=np.uint32)
    y = np.frombuffer(sig_b, dtype=np.uint32)
    return float(np.count_nonzero(x == y)) / len(x)


def band_keys(sig: bytes) -> list[int]:
    """LSH bucket keys (signed 64-bit, to fit SQLite integers): similar texts share one.

    Each band's rows and its number are mixed by multiplication with odd constants, in numpy.
    """
    if not sig:
        return []
    rows = np.frombuffer(sig, dtype=np.uint32).astype(np.uint64).reshape(BANDS, ROWS)
    mixed = np.arange(BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for r in range(ROWS):
            mixed = (mixed ^ rows[:, r]) * np.uint64(0xBF58476D1CE4E5B9)
            mixed ^= mixed >> np.uint64(31)
    return [int(k) for k in mixed.view(np.int64)]


# ---------------------------------------------------------------- numbers and document numbers
SCALES = {  # what a figure's unit multiplies it by
    "trillion": 1e12,
    "billion": 1e9,
    "bn": 1e9,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "万亿": 1e12,
    "亿": 1e8,
    "万": 1e4,
}
_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        1,
    )
    for m in names
}


@dataclass(frozen=True)
class Numbers:
    """Facts a rewrite keeps: document numbers identify an event; the rest corroborate."""

    documents: frozenset[str] = field(default_factory=frozenset)
    values: frozenset[str] = field(default_factory=frozenset)  # pct:15, amt:5.5e9, n:140
    dates: frozenset[str] = field(default_factory=frozenset)  # date:12-02


def amount_text(value: float) -> str:
    """An amount to three significant digits, so $2.3 billion and 23亿 read alike: ``2.3e+09``."""
    return f"{float(f'{value:.3g}'):g}"


def _amount(value: float) -> str:
    return f"amt:{amount_text(value)}"


# Every figure in one scan: a match consumes its text, so the digits of a document number or a
# date are not counted again. Alternatives starting with a digit come after the (?=\d) guard; the
# guard in front skips, at one test, the positions no alternative can start at (a third faster).
MONTH = (  # an English month name, as written in datelines (lower case; or IGNORECASE)
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_FIGURE = re.compile(
    r"(?=[\dajfmsond])(?:"
    r"(?P<mofcom_en>announcement\s+(?:no\.?|number)\s*(\d{1,3})\s*(?:of\s*|\[|\(|,\s*)(\d{4}))"
    rf"|(?P<date_en>\b({MONTH})\.?\s+(\d{{1,2}})\b)"
    r"|(?=\d)(?:"
    r"(?P<fr_doc>(?<![\d-])((?:19|20)\d{2})-(\d{5})(?![\d-]))"
    r"|(?P<mofcom_zh>(\d{4})\s*年\s*第\s*(\d{1,3})\s*号)"
    r"|(?P<mofcom_year_first>\b(20\d{2})\s*(?:no\.|number)\s*(\d{1,3})\b)"
    r"|(?P<fr_cite>\b(\d{2,3})\s*fr\s*(\d{3,6})\b)"
    r"|(?P<date_zh>(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
    r"|(?P<pct>(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b))"
    r"|(?P<scaled>(\d+(?:\.\d+)?)\s*(trillion|billion|million|bn\b|mn\b|m\b|万亿|亿|万))"
    r"|(?P<count>(?<![a-z\d.,-])(\d{1,3}(?:,\d{3})+|\d+)(?![a-z\d.]|\s*年))"
    r"))"
)


def numbers(text: str, *, folded: bool = False) -> Numbers:
    """Document numbers (FR ``2024-28267``, ``89 FR 96830``, MOFCOM ``2025年第61号``), percentages,
    scaled amounts (``$5.5 billion`` = ``55亿``), dates (month and day) and counts of 10 or more."""
    if not folded:
        text = fold_chars(text)
    docs: set[str] = set()
    values: set[str] = set()
    dates: set[str] = set()
    for m in _FIGURE.finditer(text):
        kind = m.lastgroup
        i = m.lastindex or 0  # the kind's own group; its parts follow it
        if kind == "count":
            n = int(m[i + 1].replace(",", ""))
            # Years and small counts say little about which event an article reports.
            if n >= 10 and not 1990 <= n <= 2100:
                values.add(f"n:{n}")
        elif kind == "pct":
            values.add(f"pct:{float(m[i + 1]):g}")
        elif kind == "scaled":
            values.add(_amount(float(m[i + 1]) * SCALES[m[i + 2]]))
        elif kind == "date_en":
            dates.add(f"date:{_MONTHS[m[i + 1]]:02d}-{int(m[i + 2]):02d}")
        elif kind == "date_zh":
            dates.add(f"date:{int(m[i + 1]):02d}-{int(m[i + 2]):02d}")
        elif kind == "fr_doc":
            docs.add(f"fr:{m[i + 1]}-{m[i + 2]}")
        elif kind == "fr_cite":
            docs.add(f"cite:{m[i + 1]}fr{m[i + 2]}")
        elif kind in ("mofcom_zh", "mofcom_year_first"):
            docs.add(f"mofcom:{m[i + 1]}-{int(m[i + 2])}")
        elif kind == "mofcom_en":
            docs.add(f"mofcom:{m[i + 2]}-{int(m[i + 1])}")
    return Numbers(frozenset(docs), frozenset(values), frozenset(dates))


# ---------------------------------------------------------------- headline words
_STOP = frozenset(
    re.findall(
        r"\S+",
        """a an and are as at be by for from has have in into is it its of on or over says said
        than that the their this to was were will with after amid new us u.s""",
    )
)


def title_terms(title: str) -> frozenset[str]:
    """Headline words to compare rewrites in one language: Latin words (no stop words, plural -s
    dropped) and Han character pairs."""
    folded = fold_chars(title)
    terms: set[str] = set()
    for word in re.findall(r"[^\W\d_]+|\d+", re.sub(rf"[{HAN}]+", " ", folded)):
        if word not in _STOP and len(word) > 1:
            terms.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    for run in re.findall(rf"[{HAN}]+", folded):
        terms.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return frozenset(terms)


def headline_key(title: str) -> str:
    """A headline reduced to letters and digits: the same headline from two outlets (or from a
    Google News wrapper and the outlet itself) gives the same key."""
    return "".join(_TOKEN.findall(fold_chars(title)))
