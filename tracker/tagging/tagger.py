"""Tag articles with vocabulary entries in one Aho-Corasick pass over folded text.

One alias serves every script, region and case: each alias is expanded once into all its spellings
(:func:`tracker.textnorm.spellings`: 芯片 / 晶片, 英伟达 / 輝達 / 英偉達) and text is matched after
NFKC and lower-casing only, so no text is converted on the hot path. Latin aliases must stand as
whole tokens, so ``H20`` is not found in ``H200`` but is found in ``英伟达H20芯片``. Where aliases
overlap, the leftmost-longest match wins (美超微 over 超微).

Some words name different things in different places: a *contextual* alias tags its entry only
when a cue stands near it in the same sentence, anywhere in the article, or when the article is in
a given script. When contexts disagree or none applies, the alias's plain (generic) entry is used,
if there is one: a generic tag, never a guess.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from tracker.models import TagHit
from tracker.tagging.vocabulary import Context, Entry, packaged_speller
from tracker.textnorm import Speller, nfkc, script_of

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
    before: re.Pattern[str] | None = None  # folded cues, looked for before the match
    after: re.Pattern[str] | None = None  # folded cues, looked for after it
    doc: tuple[str, ...] = ()


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _is_word_char(ch: str) -> bool:
    return ch in _WORD_CHARS


class _Doc:
    """One article's text in the forms matching needs; the costly ones made only when asked for."""

    def __init__(self, title: str, text: str, lang: str | None) -> None:
        self.raw = (title, text)
        self.lang = (lang or "").lower()
        self.title_cased = nfkc(title)
        self.title_folded = self.title_cased.lower()
        self.text_cased = nfkc(text)
        self.text_folded = self.text_cased.lower()

    @functools.cached_property
    def script(self) -> str | None:
        known = {"zh-hant": "hant", "zh-hans": "hans"}.get(self.lang)
        return known or script_of(self.raw[0] + self.raw[1])

    @functools.cached_property
    def folded(self) -> str:
        return f"{self.title_folded}\n{self.text_folded}"


def _last_match(regex: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = deque(regex.finditer(text), maxlen=1)
    return found[0] if found else None


def _cue_regex(cues: tuple[str, ...], speller: Speller) -> re.Pattern[str] | None:
    """One regex for a context's cues (every spelling), longest first; None when there are none."""
    if not cues:
        return None
    folded = sorted({v for c in cues for v in speller.spellings(c)}, key=len, reverse=True)
    return re.compile("|".join(re.escape(c) for c in folded))


_TRIGGER_WORDS = re.compile(r"^\\b\(\?:([a-z]+(?:\|[a-z]+)*)\)")


def _trigger(pattern: str) -> tuple[str, ...]:
    """Literals one of which every match of ``pattern`` contains, so other texts skip the regex.

    Percent signs and 号 (notice numbers) for our patterns; a leading ``\\b(?:word|word)`` gives
    its words. Empty means the pattern runs on every text.
    """
    for literal in ("%", "号", "號"):
        if literal in pattern:
            return (literal,)
    words = _TRIGGER_WORDS.match(pattern)
    return tuple(words.group(1).split("|")) if words else ()


HAN_ONLY = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class Tagger:
    """Built once per vocabulary (building the automaton is the costly part), then reused."""

    def __init__(self, entries: Iterable[Entry], speller: Speller | None = None) -> None:
        self.entries = list(entries)
        speller = speller or packaged_speller()
        patterns: dict[str, list[_Pattern]] = {}

        def add(alias: str, pattern: _Pattern) -> None:
            for key in speller.spellings(alias):
                patterns.setdefault(key, []).append(dataclasses.replace(pattern, length=len(key)))

        self._regexes: list[tuple[re.Pattern[str], Entry, tuple[str, ...]]] = []
        for entry in self.entries:
            for alias in entry.aliases:
                add(alias, _Pattern(entry, 0))
            for alias in entry.cased:
                add(alias, _Pattern(entry, 0, cased=nfkc(alias)))
            for phrase in entry.stop:
                add(phrase, _Pattern(None, 0))
            for ctx in entry.context:
                add(
                    ctx.alias,
                    _Pattern(
                        entry,
                        0,
                        cased=nfkc(ctx.alias) if ctx.cased else None,
                        context=ctx,
                        before=_cue_regex(ctx.near + ctx.before, speller),
                        after=_cue_regex(ctx.near + ctx.after, speller),
                        doc=tuple(sorted({v for c in ctx.doc for v in speller.spellings(c)})),
                    ),
                )
            for pattern in entry.patterns:
                self._regexes += [
                    (re.compile(v), entry, _trigger(v))
                    for v in sorted(speller.script_variants(pattern))
                ]
        self._keys = {key: tuple(pats) for key, pats in patterns.items()}
        self._covers: dict[str, bool] = {}
        self._empty = not patterns

    @functools.cached_property
    def _automaton(self) -> ahocorasick.Automaton:
        """Built on the first ``tag``: search's expansion needs only the keys, and a ``tracker
        search`` process should not wait for the automaton."""
        automaton = ahocorasick.Automaton()
        for key, pats in self._keys.items():
            automaton.add_word(key, (key, pats, _is_word_char(key[0]), _is_word_char(key[-1])))
        if self._keys:
            automaton.make_automaton()
        return automaton

    def tag(self, title: str, text: str, lang: str | None = None) -> list[TagHit]:
        """Tags of an article: per entry, how often it occurs and whether the title names it.

        Args:
            lang: the article's language (``zh-Hant`` / ``zh-Hans``) when known; otherwise the
                script is read from the text. Script decides aliases such as 超微.
        """
        if self._empty:
            return []
        doc = _Doc(title, text, lang)
        in_title = self._find(doc.title_cased, doc.title_folded, doc)
        in_body = self._find(doc.text_cased, doc.text_folded, doc)
        hits = []
        for tag_id in in_title.keys() | in_body.keys():
            entry = (in_title.get(tag_id) or in_body[tag_id])[0]
            count = len(in_title.get(tag_id, ())) + len(in_body.get(tag_id, ()))
            hits.append(TagHit(entry.kind, entry.slug, entry.name, count, tag_id in in_title))
        return sorted(hits, key=lambda h: (h.kind, h.slug))

    def _find(self, cased_text: str, folded: str, doc: _Doc) -> dict[str, list[Entry]]:
        found: dict[str, list[Entry]] = {}
        if not folded:
            return found
        aligned = len(folded) == len(cased_text)
        word, last = _WORD_CHARS, len(folded) - 1  # locals: this loop is the hot path
        # iter_long yields the leftmost-longest non-overlapping matches, scanning in C.
        for end, (key, pats, left_word, right_word) in self._automaton.iter_long(folded):
            start = end - len(key) + 1
            if left_word and start > 0 and folded[start - 1] in word:
                continue  # a Latin alias inside a longer token (H20 in H200A)
            if right_word and end < last and folded[end + 1] in word:
                continue
            if len(pats) == 1 and pats[0].context is None and pats[0].cased is None:
                entry = pats[0].entry  # the common case: one plain alias
                if entry is not None:
                    found.setdefault(entry.tag_id, []).append(entry)
                continue
            chosen = self._resolve(pats, folded, cased_text, aligned, start, end, doc)
            for entry in chosen or ():
                found.setdefault(entry.tag_id, []).append(entry)
        for regex, entry, triggers in self._regexes:
            if not triggers or any(t in folded for t in triggers):
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
        doc: _Doc,
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
            distance = self._context_distance(pat, folded, start, end, doc)
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
        pat: _Pattern, folded: str, start: int, end: int, doc: _Doc
    ) -> int | None:
        """How close the nearest cue is (0 = script alone decides); None if the context fails."""
        ctx = pat.context
        assert ctx is not None
        if ctx.script is not None and ctx.script != doc.script:
            return None
        if pat.before is None and pat.after is None and not pat.doc:
            return 0
        best: int | None = None
        if pat.before is not None:
            left = folded[max(0, start - ctx.window) : start]
            cut = _last_match(SENTENCE_END, left)  # cues count within the sentence
            if cut is not None:
                left = left[cut.end() :]
            last = _last_match(pat.before, left)
            if last is not None:
                best = len(left) - last.end()
        if pat.after is not None:
            right = folded[end + 1 : end + 1 + ctx.window]
            stop = SENTENCE_END.search(right)
            right = right[: stop.start()] if stop else right
            first = pat.after.search(right)
            if first is not None and (best is None or first.start() < best):
                best = first.start()
        if best is not None:
            return best
        if pat.doc and any(cue in doc.folded for cue in pat.doc):
            return DOC_LEVEL
        return None

    def lookup(self, term: str) -> list[str]:
        """The tags ``term`` is an alias of (in any script or case): for search expansion."""
        pats = self._keys.get(nfkc(term).lower().strip())
        if pats is None:
            return []
        return list(dict.fromkeys(p.entry.tag_id for p in pats if p.entry is not None))

    def covers(self, term: str) -> bool:
        """Whether every occurrence of ``term`` in a text is tagged, whatever surrounds it, so
        that matching its tag finds every article holding the word (search uses the tag alone,
        which is far cheaper than a phrase of Han bigrams).

        Only Han terms qualify (Latin words are stemmed by the index, tags are not), only plain
        aliases (no context rule, case rule or stop phrase), and only when no longer alias or stop
        phrase containing the term could claim its place in a text (超微 inside 美超微).
        """
        key = nfkc(term).lower().strip()
        cached = self._covers.get(key)
        if cached is not None:
            return cached
        found = self._keys.get(key) if key else None
        ok = (
            found is not None
            and bool(HAN_ONLY.fullmatch(key))
            and all(p.entry is not None and p.context is None and p.cased is None for p in found)
            and not any(
                key in other and other != key
                for other, pats in self._keys.items()
                if any(p.entry is None or p.entry.tag_id not in self.lookup(term) for p in pats)
            )
        )
        self._covers[key] = ok
        return ok

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
