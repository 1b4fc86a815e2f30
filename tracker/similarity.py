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


def shingles(text: str) -> set[int]:
    """32-bit hashes of the text's token runs (words for Latin text, characters for Han)."""
    tokens = _TOKEN.findall(fold_chars(text))
    if not tokens:
        return set()
    han = sum(1 for t in tokens if _HAN_ONLY.fullmatch(t))
    width = SHINGLE_HAN if han * 2 > len(tokens) else SHINGLE_LATIN
    if len(tokens) <= width:
        return {zlib.crc32(" ".join(tokens).encode())}
    return {
        zlib.crc32(" ".join(tokens[i : i + width]).encode()) for i in range(len(tokens) - width + 1)
    }


def minhash(hashes: set[int]) -> bytes:
    """A MinHash signature (``PERMUTATIONS`` uint32 values) of a shingle set; empty set: b''."""
    if not hashes:
        return b""
    a, b = _permutations()
    x = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
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
_FR_CITE = re.compile(r"\b(\d{2,3})\s*FR\s*(\d{3,6})\b")
_MOFCOM_ZH = re.compile(r"(\d{4})\s*年\s*第\s*(\d{1,3})\s*号")
_MOFCOM_EN = re.compile(
    r"announcement\s+(?:no\.?|number)\s*(\d{1,3})\s*(?:of\s*|\[|\(|,\s*)(\d{4})", re.IGNORECASE
)
_MOFCOM_EN_YEAR_FIRST = re.compile(r"\b(20\d{2})\s*(?:no\.|number)\s*(\d{1,3})\b", re.IGNORECASE)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b)", re.IGNORECASE)
_SCALED_EN = re.compile(
    r"(\d+(?:\.\d+)?)\s*(trillion|billion|million|bn\b|mn\b|m\b)", re.IGNORECASE
)
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
_DATE_EN = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{1,2})\b", re.IGNORECASE
)
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


def numbers(text: str) -> Numbers:
    """Document numbers (FR ``2024-28267``, ``89 FR 96830``, MOFCOM ``2025年第61号``), percentages,
    scaled amounts (``$5.5 billion`` = ``55亿``), dates (month and day) and counts of 10 or more."""
    text = fold_chars(text)
    docs = {f"fr:{y}-{n}" for y, n in _FR_DOC.findall(text)}
    docs |= {f"cite:{v}fr{p}" for v, p in _FR_CITE.findall(text)}
    docs |= {f"mofcom:{y}-{int(n)}" for y, n in _MOFCOM_ZH.findall(text)}
    docs |= {f"mofcom:{y}-{int(n)}" for n, y in _MOFCOM_EN.findall(text)}
    docs |= {f"mofcom:{y}-{int(n)}" for y, n in _MOFCOM_EN_YEAR_FIRST.findall(text)}
    values = {f"pct:{float(v):g}" for v in _PERCENT.findall(text)}
    for value, unit in _SCALED_EN.findall(text):
        values.add(_amount(float(value) * _SCALES[unit.lower()]))
    for value, unit in _SCALED_ZH.findall(text):
        values.add(_amount(float(value) * _SCALES[unit]))
    dates = {f"date:{_MONTHS[m.lower()]:02d}-{int(d):02d}" for m, d in _DATE_EN.findall(text)}
    dates |= {f"date:{int(m):02d}-{int(d):02d}" for m, d in _DATE_ZH.findall(text)}
    scrubbed = _FR_DOC.sub(" ", _SCALED_ZH.sub(" ", _SCALED_EN.sub(" ", text)))
    scrubbed = _DATE_ZH.sub(" ", _DATE_EN.sub(" ", scrubbed))
    for raw in _INTEGER.findall(scrubbed):
        n = int(raw.replace(",", ""))
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
