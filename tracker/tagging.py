"""Tag articles with vocabulary entries in one Aho-Corasick pass over folded text.

Folding (see :mod:`tracker.textnorm`) makes one alias serve every script, region and case. Latin
aliases must stand as whole tokens, so ``H20`` is not found in ``H200`` but is found in
``英伟达H20芯片``. Where aliases overlap, the leftmost-longest match wins (美超微 over 超微).

Some words name different things in different places: a *contextual* alias tags its entry only
when a cue stands near it in the same sentence, anywhere in the article, or when the article is in
a given script. When contexts disagree or none applies, the alias's plain (generic) entry is used,
if there is one: a generic tag, never a guess.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from tracker.models import TagHit
from tracker.textnorm import HAN_RE, fold, nfkc, to_simplified
from tracker.vocabulary import Context, Entry

# A full stop ends a sentence unless it closes a one-letter abbreviation ("u.s. government").
SENTENCE_END = re.compile(r"[。！？!?;；\n]|(?<![^a-z][a-z])\.\s")
DOC_LEVEL = 10_000  # the "distance" of a document-level cue: any sentence-level cue beats it
RELEVANT = 0.5  # the score from which an article counts as on-topic (search --relevant, digest)
RELEVANCE_SCALE = 6.0  # score s maps to 1 - exp(-s / scale): one title-level policy term ~ 0.5


@dataclass(frozen=True)
class _Pattern:
    entry: Entry | None  # None for a stop phrase: it claims its span and tags nothing
    length: int
    cased: str | None = None  # the exact-case form, for cased aliases
    context: Context | None = None
    before: tuple[str, ...] = ()  # folded cues, looked for before the match
    after: tuple[str, ...] = ()  # folded cues, looked for after it
    doc: tuple[str, ...] = ()


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def script_of(text: str) -> str | None:
    """``hant`` or ``hans`` for Chinese text (by how much t2s changes it); None for other text."""
    han = "".join(HAN_RE.findall(text[:3000]))
    if len(han) < 4:
        return None
    changed = sum(a != b for a, b in zip(han, to_simplified(han), strict=False))
    return "hant" if changed / len(han) > 0.03 else "hans"


class Tagger:
    """Built once per vocabulary (building the automaton is the costly part), then reused."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._automaton = ahocorasick.Automaton()
        patterns: dict[str, list[_Pattern]] = {}

        def add(alias: str, pattern: _Pattern) -> None:
            key = fold(alias)
            patterns.setdefault(key, []).append(dataclasses.replace(pattern, length=len(key)))

        self._regexes: list[tuple[re.Pattern[str], Entry]] = []
        for entry in self.entries:
            for alias in entry.aliases:
                add(alias, _Pattern(entry, 0))
            for alias in entry.cased:
                add(alias, _Pattern(entry, 0, cased=to_simplified(nfkc(alias))))
            for phrase in entry.stop:
                add(phrase, _Pattern(None, 0))
            for ctx in entry.context:
                add(
                    ctx.alias,
                    _Pattern(
                        entry,
                        0,
                        cased=to_simplified(nfkc(ctx.alias)) if ctx.cased else None,
                        context=ctx,
                        before=tuple(fold(c) for c in ctx.near + ctx.before),
                        after=tuple(fold(c) for c in ctx.near + ctx.after),
                        doc=tuple(fold(c) for c in ctx.doc),
                    ),
                )
            self._regexes += [(re.compile(p), entry) for p in entry.patterns]
        for key, pats in patterns.items():
            self._automaton.add_word(key, (key, tuple(pats)))
        if patterns:
            self._automaton.make_automaton()
        self._empty = not patterns

    def tag(self, title: str, text: str, lang: str | None = None) -> list[TagHit]:
        """Tags of an article: per entry, how often it occurs and whether the title names it.

        Args:
            lang: the article's language (``zh-Hant`` / ``zh-Hans``) when known; otherwise the
                script is read from the text. Script decides aliases such as 超微.
        """
        script = {"zh-hant": "hant", "zh-hans": "hans"}.get((lang or "").lower()) or script_of(
            title + text
        )
        doc = fold(f"{title}\n{text}")
        in_title = self._find(title, script, doc)
        in_body = self._find(text, script, doc)
        hits = []
        for tag_id in in_title.keys() | in_body.keys():
            entry = (in_title.get(tag_id) or in_body[tag_id])[0]
            count = len(in_title.get(tag_id, ())) + len(in_body.get(tag_id, ()))
            hits.append(TagHit(entry.kind, entry.slug, entry.name, count, tag_id in in_title))
        return sorted(hits, key=lambda h: (h.kind, h.slug))

    def _find(self, text: str, script: str | None, doc: str) -> dict[str, list[Entry]]:
        if not text or self._empty:
            return {}
        cased_text = to_simplified(nfkc(text))
        folded = cased_text.lower()
        aligned = len(folded) == len(cased_text)
        spans: list[tuple[int, int, tuple[_Pattern, ...]]] = []
        for end, (key, pats) in self._automaton.iter(folded):
            start = end - len(key) + 1
            if self._boundaries_ok(folded, start, end, key):
                spans.append((start, end, pats))
        # Leftmost-longest: sort by start, longest first, and keep spans that do not overlap.
        spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
        found: dict[str, list[Entry]] = {}
        taken_until = -1
        for start, end, pats in spans:
            if start <= taken_until:
                continue
            chosen = self._resolve(pats, folded, cased_text, aligned, start, end, script, doc)
            if chosen is None:
                continue  # e.g. a cased alias in the wrong case: the span stays free
            taken_until = end
            for entry in chosen:
                found.setdefault(entry.tag_id, []).append(entry)
        for regex, entry in self._regexes:
            for _ in regex.finditer(folded):
                found.setdefault(entry.tag_id, []).append(entry)
        return found

    def _resolve(
        self,
        pats: tuple[_Pattern, ...],
        folded: str,
        cased_text: str,
        aligned: bool,
        start: int,
        end: int,
        script: str | None,
        doc: str,
    ) -> list[Entry] | None:
        """The entries one matched span tags; [] claims the span for nothing; None leaves it."""
        plain: list[Entry] = []
        ranked: list[tuple[int, Entry]] = []
        ambiguous = False
        for pat in pats:
            if pat.entry is None:
                return []  # a stop phrase
            if pat.cased is not None and not (aligned and cased_text[start : end + 1] == pat.cased):
                continue  # wrong letter case: this pattern does not apply
            if pat.context is None:
                plain.append(pat.entry)
                continue
            ambiguous = True
            distance = self._context_distance(pat, folded, start, end, script, doc)
            if distance is not None:
                ranked.append((distance, pat.entry))
        if ranked:
            best = min(d for d, _ in ranked)
            winners = list(dict.fromkeys(e for d, e in ranked if d == best))
            if len(winners) == 1:
                return winners
            # Contexts disagree at the same distance: fall back to the generic form.
        if plain:
            return list(dict.fromkeys(plain))
        # An ambiguous word that no context decides claims its span, so no shorter alias inside
        # it fires; a cased alias in the wrong case leaves the span free.
        return [] if ambiguous else None

    @staticmethod
    def _context_distance(
        pat: _Pattern, folded: str, start: int, end: int, script: str | None, doc: str
    ) -> int | None:
        """How close the nearest cue is (0 = script alone decides); None if the context fails."""
        ctx = pat.context
        assert ctx is not None
        if ctx.script is not None and ctx.script != script:
            return None
        if not pat.before and not pat.after and not pat.doc:
            return 0
        best: int | None = None
        if pat.before:
            left = folded[max(0, start - ctx.window) : start]
            cut = [m.end() for m in SENTENCE_END.finditer(left)]  # cues count within the sentence
            left = left[cut[-1] :] if cut else left
            for cue in pat.before:
                i = left.rfind(cue)
                if i >= 0:
                    d = len(left) - (i + len(cue))
                    best = d if best is None else min(best, d)
        if pat.after:
            right = folded[end + 1 : end + 1 + ctx.window]
            stop = SENTENCE_END.search(right)
            right = right[: stop.start()] if stop else right
            for cue in pat.after:
                j = right.find(cue)
                if j >= 0:
                    best = j if best is None else min(best, j)
        if best is not None:
            return best
        if pat.doc and any(cue in doc for cue in pat.doc):
            return DOC_LEVEL
        return None

    @staticmethod
    def _boundaries_ok(text: str, start: int, end: int, key: str) -> bool:
        if _is_word_char(key[0]) and start > 0 and _is_word_char(text[start - 1]):
            return False
        return not (_is_word_char(key[-1]) and end + 1 < len(text) and _is_word_char(text[end + 1]))

    def weights(self) -> dict[str, float]:
        return {e.tag_id: e.relevance_weight for e in self.entries}


CONTROL_KINDS = frozenset({"policy", "agency"})  # who acts and how: the topic itself
SUBJECT_KINDS = frozenset({"chip", "material", "company"})  # what it acts on


def relevance(hits: Iterable[TagHit], weights: dict[str, float]) -> float:
    """How much an article is about export controls on chips, tools and materials, from 0 to 1.

    A mention weighs its entry's weight, more when repeated (log scale), double in the title. The
    topic needs a control signal (policy terms, agencies): subjects (chips, materials, companies)
    only amplify it, up to twice, so a chip review or a stock report scores 0 however many chips
    it names. The product s maps to 1 - exp(-s / 6); articles from 0.5 up count as on-topic.
    """
    control = subject = 0.0
    for hit in hits:
        weight = weights.get(hit.tag_id, 0.0)
        mass = weight * (1 + 0.5 * math.log2(max(hit.count, 1))) * (2 if hit.in_title else 1)
        if hit.kind in CONTROL_KINDS:
            control += mass
        elif hit.kind in SUBJECT_KINDS:
            subject += mass
    score = control * (1 + min(subject, 4.0) / 4.0)
    return round(1 - math.exp(-score / RELEVANCE_SCALE), 3)
