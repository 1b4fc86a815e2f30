"""Snippets and highlights: where the query's words occur in an article, marked with [ ].

Matching folds script and case (:func:`tracker.textnorm.fold_chars`, which keeps positions), so
英偉達 in the text is marked for the query 英伟达; users always see the original text.
"""

from __future__ import annotations

import re

from tracker.textnorm import fold_chars


def mark_matches(text: str, terms: list[str]) -> str:
    """``text`` with every occurrence of the terms (in either script or case) wrapped in [ ]."""
    folded = fold_chars(text)
    if len(folded) != len(text):
        return text
    spans = _spans(folded, terms)
    out, cursor = [], 0
    for s, e in spans:
        out.append(text[cursor:s] + "[" + text[s:e] + "]")
        cursor = e
    return "".join(out) + text[cursor:]


def _spans(folded: str, terms: list[str]) -> list[tuple[int, int]]:
    needles = sorted({fold_chars(t) for t in terms if t.strip()}, key=len, reverse=True)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        for m in re.finditer(re.escape(needle), folded):
            if not any(s < m.end() and m.start() < e for s, e in spans):
                spans.append((m.start(), m.end()))
    return sorted(spans)


def make_snippet(text: str, terms: list[str], width: int = 180) -> str:
    """A passage of ``text`` around the first term found, with each match wrapped in [ ]."""
    flat = " ".join(text.split())
    if not flat:
        return ""
    folded = fold_chars(flat)
    if len(folded) != len(flat):  # lower-casing changed lengths (rare): positions would not line up
        return flat[:width]
    spans = _spans(folded, terms)
    if not spans:
        return flat[:width] + ("…" if len(flat) > width else "")
    first = spans[0][0]
    start = max(0, first - width // 3)
    end = min(len(flat), start + width)
    out, cursor = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(flat[cursor:s] + "[" + flat[s:e] + "]")
        cursor = e
    out.append(flat[cursor:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(flat) else "")
