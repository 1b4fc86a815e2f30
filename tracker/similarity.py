"""What two articles share: near-identical text (MinHash), numbers, document numbers, headline words.

Pure functions over text; :mod:`tracker.stories` decides what counts as the same story.

Text is folded first (simplified script, lower case), so a Big5 copy of a GB18030 page has the same
shingles. Shingles are runs of tokens where a token is a Latin word or one Han character: Chinese
has no spaces, and characters are the unit a rewrite keeps.
"""

from __future__ import annotations

import functools
import hashlib
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
SHINGLE_HAN = 4  # characters (a Chinese word is 1-4 characters; 4 keeps common pairs apart)

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
    tokens = _TOKEN.findall(text if folded else fold_chars(text))
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    han = sum(1 for t in tokens if len(t) == 1 and _HAN_ONLY.match(t))
    width = SHINGLE_HAN if han * 2 > len(tokens) else SHINGLE_LATIN
    # Hash each token once, then combine each run of `width` token hashes polynomially, in numpy:
    # one crc32 per token instead of one per shingle string.
    h = np.fromiter((zlib.crc32(t.encode()) for t in tokens), dtype=np.uint64, count=len(tokens))
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
    """LSH bucket keys (signed 64-bit, to fit SQLite integers): similar texts share one."""
    if not sig:
        return []
    width = ROWS * 4
    keys = []
    for band in range(BANDS):
        chunk = band.to_bytes(1, "big") + sig[band * width : (band + 1) * width]
        digest = hashlib.blake2b(chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys


# ---------------------------------------------------------------- numbers and document numbers
_FR_DOC = re.compile(r"(?<![\d-])((?:19|20)\d{2})-(\d{5})(?![\d-])")
_FR_CITE = re.compile(r"\b(\d{2,3})\s*fr\s*(\d{3,6})\b")
_MOFCOM_ZH = re.compile(r"(\d{4})\s*年\s*第\s*(\d{1,3})\s*号")
_MOFCOM_EN = re.compile(
    r"announcement\s+(?:no\.?|number)\s*(\d{1,3})\s*(?:of\s*|\[|\(|,\s*)(\d{4})"
)
_MOFCOM_EN_YEAR_FIRST = re.compile(r"\b(20\d{2})\s*(?:no\.|number)\s*(\d{1,3})\b")
# Text is folded (lower case) before these run.
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b)")
_SCALED_EN = re.compile(r"(\d+(?:\.\d+)?)\s*(trillion|billion|million|bn\b|mn\b|m\b)")
_SCALED_ZH = re.compile(r"(\d+(?:\.\d+)?)\s*(万亿|亿|万)")
_SCALES = {
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
_DATE_EN = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})\b")  # the word is checked against _MONTHS
_DATE_ZH = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# Digits glued to Latin letters are model numbers (H20, MI308, 910B), not figures; 27家 is a figure.
_INTEGER = re.compile(
    r"(?<![A-Za-z\d.,-])(\d{1,3}(?:,\d{3})+|\d+)(?![A-Za-z\d.]|\s*(?:年|%|percent))"
)


@dataclass(frozen=True)
class Numbers:
    """Facts a rewrite keeps: document numbers identify an event; the rest corroborate."""

    documents: frozenset[str] = field(default_factory=frozenset)
    values: frozenset[str] = field(default_factory=frozenset)  # pct:15, amt:5.5e9, n:140
    dates: frozenset[str] = field(default_factory=frozenset)  # date:12-02


def _amount(value: float) -> str:
    return f"amt:{float(f'{value:.3g}'):g}"


def numbers(text: str, *, folded: bool = False) -> Numbers:
    """Document numbers (FR ``2024-28267``, ``89 FR 96830``, MOFCOM ``2025年第61号``), percentages,
    scaled amounts (``$5.5 billion`` = ``55亿``), dates (month and day) and counts of 10 or more."""
    if not folded:
        text = fold_chars(text)
    docs: set[str] = set()
    values: set[str] = set()
    dates: set[str] = set()
    taken: list[tuple[int, int]] = []  # spans already read as something other than a count
    # Cheap substring checks first: most articles have no document numbers or Chinese units,
    # and a regex that cannot match still costs a scan of the text.
    for m in _FR_DOC.finditer(text):
        docs.add(f"fr:{m[1]}-{m[2]}")
        taken.append(m.span())
    if "fr" in text:
        for m in _FR_CITE.finditer(text):
            docs.add(f"cite:{m[1]}fr{m[2]}")
            taken.append(m.span())
    if "号" in text:
        for m in _MOFCOM_ZH.finditer(text):
            docs.add(f"mofcom:{m[1]}-{int(m[2])}")
            taken.append(m.span())
    if "no" in text:  # "no." and "number"
        for m in _MOFCOM_EN.finditer(text):
            docs.add(f"mofcom:{m[2]}-{int(m[1])}")
            taken.append(m.span())
        for m in _MOFCOM_EN_YEAR_FIRST.finditer(text):
            docs.add(f"mofcom:{m[1]}-{int(m[2])}")
            taken.append(m.span())
    if "%" in text or "per" in text:
        values |= {f"pct:{float(v):g}" for v in _PERCENT.findall(text)}
    for m in _SCALED_EN.finditer(text):
        values.add(_amount(float(m[1]) * _SCALES[m[2]]))
        taken.append(m.span())
    if "亿" in text or "万" in text:
        for m in _SCALED_ZH.finditer(text):
            values.add(_amount(float(m[1]) * _SCALES[m[2]]))
            taken.append(m.span())
    for m in _DATE_EN.finditer(text):
        month = _MONTHS.get(m[1])
        if month:
            dates.add(f"date:{month:02d}-{int(m[2]):02d}")
            taken.append(m.span())
    if "月" in text:
        for m in _DATE_ZH.finditer(text):
            dates.add(f"date:{int(m[1]):02d}-{int(m[2]):02d}")
            taken.append(m.span())
    for m in _INTEGER.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        n = int(m[1].replace(",", ""))
        # Years and small counts say little about which event an article reports.
        if n >= 10 and not 1990 <= n <= 2100:
            values.add(f"n:{n}")
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
