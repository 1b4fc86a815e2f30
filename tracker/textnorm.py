"""Text normalisation: what is stored (pinyin stripped) and what is matched (folded).

Folding maps traditional characters and Taiwan usage to mainland simplified (OpenCC ``tw2sp``:
輝達 -> 英伟达, 晶片 -> 芯片, 奈米 -> 纳米, 記憶體 -> 内存; simplified text passes unchanged),
full-width forms to ASCII (NFKC) and case to lower case, so one alias list and one index serve every
script and region. Folding is for matching only; users always see the original text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import opencc

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Mirrors add reading aids after characters: 英伟达(dá), 镓（jiā）. A syllable needs a tone mark or a
# tone number, so "(amd)" or "(h20)" are never taken for pinyin.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹ"
PINYIN_NOTE = re.compile(
    rf"(?<=[{HAN}])\s?[(（]\s?"
    rf"((?:[a-zü]*[{_TONED}][a-zü{_TONED}]*|[a-zü]+[1-5])(?:\s[a-zü{_TONED}]+[1-5]?)*)"
    rf"\s?[)）]"
)
HAN_RE = re.compile(f"[{HAN}]")
LETTER_RE = re.compile(r"[^\W\d_]")  # any script's letters, Han included
WHITESPACE = re.compile(r"[ \t\u00a0\u3000]+")


@functools.cache
def _converter(config: str = "tw2sp") -> Any:
    return opencc.OpenCC(config)


def strip_pinyin(text: str) -> str:
    """Remove inline pinyin annotations after Chinese characters."""
    return PINYIN_NOTE.sub("", text)


# Characters that never belong in stored text: C0 and C1 controls but tab and newline (an ESC
# starts a terminal escape sequence; NUL truncates in C tools), and the bidirectional overrides,
# embeddings and isolates (U+202E turns "gpj.exe" into a spoofed title in a subject line).
_CONTROLS = {
    **{c: None for c in range(0x20) if chr(c) not in "\t\n"},
    ord("\r"): "\n",
    **{c: None for c in range(0x7F, 0xA0)},
    **{c: None for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}


def first_control(text: str, allowed: str = "") -> int | None:
    """Where ``text`` holds its first control or bidi-override character (one that
    :func:`strip_controls` drops) not in ``allowed``, or None."""
    return next(
        (
            i
            for i, ch in enumerate(text)
            if (ord(ch) in _CONTROLS or ch == "\t") and ch not in allowed
        ),
        None,
    )


def strip_controls(text: str) -> str:
    """``text`` without control and bidi-override characters (CR becomes a newline)."""
    return text.translate(_CONTROLS)


def clean_text(text: str) -> str:
    """Stored form: control characters dropped, pinyin notes stripped, runs of spaces collapsed,
    blank lines squeezed."""
    text = strip_pinyin(strip_controls(text))
    lines = [WHITESPACE.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def to_simplified(text: str) -> str:
    """Traditional and Taiwan usage -> mainland simplified (OpenCC tw2sp); other text unchanged."""
    if not HAN_RE.search(text):
        return text
    return str(_converter().convert(text))


def to_simplified_chars(text: str) -> str:
    """Traditional -> simplified character for character (OpenCC t2s, no phrase changes)."""
    return str(_converter("t2s").convert(text)) if HAN_RE.search(text) else text


# Every way a Chinese term is commonly written: traditional, Taiwan (with its own words), Hong Kong.
VARIANT_CONFIGS = ("s2t", "s2tw", "s2twp", "s2hk")


def spellings(term: str) -> set[str]:
    """The matching keys of ``term`` in every script and region, NFKC'd and lower-cased.

    The folded (mainland simplified) form, the term as written, and each traditional and regional
    conversion of the folded form: 芯片 gives 晶片, 英伟达 gives 輝達, 内存 gives 記憶體. Expanding
    the few thousand vocabulary terms once lets the tagger match raw text without converting it.
    (The s2* dictionaries take about 43 MB, so the packaged vocabulary's spellings are precomputed:
    see :class:`Speller`.)
    """
    base = fold(term)
    out = {base, nfkc(term).lower()}
    if HAN_RE.search(base):
        out.update(nfkc(str(_converter(c).convert(base))).lower() for c in VARIANT_CONFIGS)
    return out


def script_variants(pattern: str) -> set[str]:
    """A regular expression in each script: its Han characters converted, its syntax untouched."""
    if not HAN_RE.search(pattern):
        return {pattern}
    return {pattern} | {str(_converter(c).convert(pattern)) for c in VARIANT_CONFIGS}


class Speller:
    """:func:`spellings` and :func:`script_variants`, answered from a precomputed table when it
    has the term, so OpenCC's conversion dictionaries load only for terms it lacks."""

    def __init__(self, terms: dict[str, list[str]], patterns: dict[str, list[str]]) -> None:
        self.terms = terms
        self.patterns = patterns

    def spellings(self, term: str) -> set[str]:
        known = self.terms.get(term)
        return set(known) if known is not None else spellings(term)

    def script_variants(self, pattern: str) -> set[str]:
        known = self.patterns.get(pattern)
        return set(known) if known is not None else script_variants(pattern)


def nfkc(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII), skipped when already normal (the usual case)."""
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """Matching form: NFKC (full-width to ASCII), mainland simplified script and words, lower case."""
    return to_simplified(nfkc(text)).lower()


def fold_chars(text: str) -> str:
    """Like :func:`fold` but character for character (t2s, no phrases), so positions line up with
    the original; for highlighting matches in text shown to users."""
    return to_simplified_chars(text).lower()


HANT_HINTS = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")  # language tags that mean traditional
HANS_HINTS = ("zh-hans", "zh-cn", "zh-sg")


def script_of(text: str, hint: str | None = None) -> str | None:
    """``hant`` or ``hans`` for Chinese text; None for other text.

    Counts the characters only traditional writing uses (t2s changes them) against those only
    simplified writing uses (s2t changes them). Some characters are shared yet still converted
    (昇 becomes 升), so one side must clearly outnumber the other; where the text cannot decide
    (a short headline, characters common to both), ``hint`` (``zh-Hans``/``zh-Hant``, from the
    source or the page) decides, and without one the old share rule does.
    """
    han = "".join(HAN_RE.findall(text[:3000]))[:600]
    if not han:
        return None
    traditional = sum(map(str.__ne__, han, to_simplified_chars(han)))
    hinted = (hint or "").lower()
    # The s2t table takes ~40 ms to load: asked only when the cheap count cannot settle it
    # (nothing traditional and no traditional hint: simplified; plenty traditional: traditional).
    if traditional == 0 and hinted not in HANT_HINTS:
        return "hans" if len(han) >= 4 or hinted.startswith("zh") else None
    if traditional >= 2 and traditional >= 0.15 * len(han):
        return "hant"
    simplified = sum(1 for ch in han if _to_traditional_char(ch) != ch)
    if traditional >= 2 * simplified + 1 and traditional >= 2:
        return "hant"
    if simplified >= 2 * traditional + 1 and simplified >= 2:
        return "hans"
    if hinted in HANT_HINTS:
        return "hant"
    if hinted in HANS_HINTS:
        return "hans"
    if len(han) < 4:
        return None
    return "hant" if traditional / len(han) > 0.03 else "hans"


@functools.cache
def _to_traditional_char(ch: str) -> str:
    return str(_converter("s2t").convert(ch))


def detect_lang(text: str, hint: str | None = None) -> str:
    """``en``, ``zh-Hans`` or ``zh-Hant`` from the share of Han characters and which script they use.

    ``hint`` (the page's lang attribute or the source's ``lang``) is trusted for non-Chinese text,
    and decides the script of Chinese text too short or too plain to tell (:func:`script_of`).
    """
    sample = text[:2000]
    han = len(HAN_RE.findall(sample))
    letters = len(LETTER_RE.findall(sample)) or 1
    if han / letters < 0.2:
        if hint and not hint.lower().startswith("zh"):
            return hint.split("-")[0].lower()
        return "en"
    return "zh-Hant" if script_of(sample, hint) == "hant" else "zh-Hans"


_HAN_RUN = re.compile(f"[{HAN}]+")
# British and American spellings meet in the index (licence / license, authorise / authorize); the
# stemmer handles plurals and tenses but not these.
_SPELLING = (
    (re.compile(r"\b(licen|defen|offen|preten)c(e|es|ed|ing)\b"), r"\1s\2"),
    (re.compile(r"\b(\w{3,})is(e|es|ed|ing|ation|ations)\b"), r"\1iz\2"),
    (re.compile(r"\b(\w{3,})ys(e|es|ed|ing)\b"), r"\1yz\2"),
    (re.compile(r"\b(cent|met|lit|fib)re(s?)\b"), r"\1er\2"),
)


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def index_form(text: str) -> str:
    """What the full-text index stores: folded text with each run of Han characters as bigrams.

    SQLite's unicode61 tokenizer would index a whole Han run as one token (so 出口管制 inside a
    sentence could never be found); overlapping bigrams make any 2+ character word a phrase query,
    and the spaces also split model numbers from the Chinese around them (英伟达H20芯片 -> h20).
    Queries go through the same function, so phrases line up token for token. British spellings
    become American (licence -> license) so either finds both.
    """
    return _SPELLING_CANDIDATE.sub(_american, _HAN_RUN.sub(_bigrams, fold(text)))


# Only words with one of the endings can change: find those in one pass, then apply the rules to
# each (a third faster than running every rule over the whole text).
_SPELLING_CANDIDATE = re.compile(
    r"\b\w{3,}?(?:is(?:e|es|ed|ing|ation|ations)|ys(?:e|es|ed|ing)|enc(?:e|es|ed|ing)|re|res)\b"
)


def _american(match: re.Match[str]) -> str:
    word = match.group(0)
    for pattern, replacement in _SPELLING:
        word = pattern.sub(replacement, word)
    return word


def tag_token(tag_id: str) -> str:
    """The search-index token of a tag (company:nvidia -> tagcompanynvidia): one word for FTS5."""
    return "tag" + re.sub(r"[^a-z0-9]", "", tag_id.lower())


def tail_chars(text: str) -> str:
    """The last character of every Han run of two or more, space-separated.

    Every character of a run starts a bigram except the last; indexing these apart (not inside the
    bigram stream, where they would break phrases) lets a one-character query (镓) find any
    occurrence as the prefix query ``"镓" *``.
    """
    return " ".join(run[-1] for run in _HAN_RUN.findall(fold(text)) if len(run) > 1)
