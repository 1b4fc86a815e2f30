"""Stories: the copies, rewrites and translations of one event, joined as articles arrive.

An article joins the story of the stored article it matches best, for the first reason that holds:

* ``headline``: the same headline (another outlet's copy, a Google News wrapper of it);
* ``event: document …``: both cite the same Federal Register or MOFCOM document number;
* ``text 0.91``: near-identical bodies (MinHash estimate of shingle overlap);
* ``event: tags+numbers`` / ``event: tags+title``: within the event window, the tags agree and
  so do the numbers (percentages, amounts, counts) or the headline words;
* ``event: numbers+title``: figures and headline words agree (stories the vocabulary misses);
* ``event: tags, translated``: a report in the other language with no figures at all, nearly the
  same tags, within a day;
* ``event: names (…)``: no vocabulary needed (:mod:`tracker.stories.terms`): the words, names
  and figures of the headline and lead, weighted by how rare they are in the store, agree (more
  so the further apart in time), and so do the names alone; in the other language, most of its
  Latin-script names and figures are in the other report. The shared rarest terms are named.

Two articles citing different document numbers are never joined, nor are two whose counts (or
percentages, or amounts) all differ; the names rule also keeps apart two whose numbers, as
written in headline and lead, all differ (an aftershock of 5.1 and the earthquake of 6.4), and
two from one outlet (they share its boilerplate). An article is compared with every stored
article near it, not only with story leads, so a translation joins through whichever copy it is
closest to. When an article matches two stories strongly (a rewrite arrived before its source),
the two are merged.
Incremental placement and the full rebuild give the same stories when articles arrive in time
order. Stories never split.

The lead is the official document when the story has one, else its earliest full article.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from tracker.config.stories import StoryRules
from tracker.stories.similarity import (
    Numbers,
    band_keys,
    headline_key,
    minhash,
    numbers,
    shingles,
    similarity,
    title_terms,
)
from tracker.stories.terms import Rarity, article_terms
from tracker.textnorm import fold_chars

HOUR = 3600.0
TRANSLATION_HOURS = 24  # a translation without figures joins only this close in time
MIN_HEADLINE = 12  # shorter headlines ("Update", "快讯") say nothing about the event
KEY_CANDIDATES = 20  # per shared key, the nearest articles in time that are compared
BAND_CANDIDATES = 20  # per shared LSH band, the newest articles that are compared
MAX_PAIRS = 10  # tag-pair lookup keys per article
MAX_VALUE_KEYS = 16  # figure lookup keys per article (a rule's tables can hold hundreds)
FIGURES = ("n:", "pct:", "amt:")  # kinds of figure compared separately
FIGURES_WITHIN = 3000  # characters of the body read for figures and document numbers
# A match this strong (tags+numbers and above, not headline words alone) also pulls in the other
# story its article belongs to.
MERGE_STRENGTH = 0.5
TERM_KEYS = 5  # lookup keys per article: its rarest names and figures ...
OTHER_TERM_KEYS = 1  # ... and its rarest other terms
TERM_CANDIDATES = 6  # per term key, the nearest articles in time that are compared
TRANSLATED_DAYS = 1.0  # the names rule joins two languages only this close in time
# How a candidate was found: through a shared LSH band, a lookup key, or only a term key.
VIA_BAND, VIA_KEY, VIA_TERM = 0, 1, 2


@dataclass(slots=True)
class Signature:
    """What placement compares: one per article, stored in ``story_sigs``.

    ``bands`` and ``keys`` are derived (see :func:`finish`); slots keep a rebuild's hundred
    thousand of these small.
    """

    article_id: str
    moment: float  # POSIX seconds: published, else first seen
    lang: str
    official: bool
    extracted: bool
    minhash: bytes
    numbers: Numbers
    tags: frozenset[str]
    title: frozenset[str]
    headline: str
    bands: tuple[int, ...] = ()  # LSH bucket keys of the text: near-identical copies share one
    keys: tuple[str, ...] = ()  # lookup keys for candidates that may share an event
    figures: tuple[frozenset[str], ...] = ()  # values by kind: counts, percentages, amounts
    terms: frozenset[str] = frozenset()  # headline and lead (see stories.terms); old rows: none
    names: frozenset[str] = frozenset()  # the terms written as names
    host: str = ""  # the outlet's web host: its own boilerplate names itself
    numerals: frozenset[str] = frozenset()  # the terms that are figures
    percents: frozenset[str] = frozenset()  # the figures that are percentages (derived) ...
    plain: frozenset[str] = frozenset()  # ... and the others
    stored: str = ""  # facts() encoded ahead, in a worker; dropped once written

    def finish(self, lookups: bool = True) -> Signature:
        """Derive the figures by kind and, with ``lookups``, the band and lookup keys (which
        only an article being placed or indexed needs, not a candidate read back)."""
        by_kind: dict[str, list[str]] = {kind: [] for kind in FIGURES}
        for value in self.numbers.values:
            found = by_kind.get(value[: value.index(":") + 1])
            if found is not None:
                found.append(value)
        self.figures = tuple(frozenset(by_kind[kind]) for kind in FIGURES)
        self.percents = frozenset(t for t in self.numerals if t[-1] == "%")
        self.plain = self.numerals - self.percents
        if not lookups:
            return self
        self.bands = tuple(band_keys(self.minhash))
        keys = [f"d:{d}" for d in self.numbers.documents]
        keys += [f"v:{v}" for v in sorted(self.numbers.values)[:MAX_VALUE_KEYS]]
        if len(self.headline) >= MIN_HEADLINE:
            keys.append(f"h:{self.headline}")
        tags = sorted(self.tags)
        keys += [f"p:{a}|{b}" for i, a in enumerate(tags) for b in tags[i + 1 :]][:MAX_PAIRS]
        self.keys = tuple(keys)
        return self

    def facts(self) -> str:
        """What ``story_sigs.facts`` stores (encoded ahead where signatures are made, else now)."""
        if self.stored:
            return self.stored
        return json.dumps(
            {
                "docs": sorted(self.numbers.documents),
                "values": sorted(self.numbers.values),
                "dates": sorted(self.numbers.dates),
                "tags": sorted(self.tags),
                "title": sorted(self.title),
                "headline": self.headline,
                "terms": sorted(self.terms - self.numerals),
                "numerals": sorted(self.numerals),
                "names": sorted(self.names),
                "host": self.host,
            },
            ensure_ascii=False,
        )

    def add_term_keys(self, rarity: Rarity) -> None:
        """Lookup keys for the names rule: the rarest names and figures (what a report in
        another language keeps) and the rarest other terms, by the store's counts now."""
        chinese = self.lang == "zh"
        counts = rarity.counts
        # Rarest first is fewest articles first (the weight falls as the count grows), and
        # counts are cheaper to read than weights.
        names, numerals = self.names, self.numerals
        eligible = [
            t for t in self.terms if t in names or t in numerals or (chinese and t.isascii())
        ]
        portable = sorted(eligible, key=lambda t: (counts.get(t, 0), t))[:TERM_KEYS]
        chosen = set(portable)
        # the rarest of the rest: sorting every term for one of them cost a rebuild seconds
        others = [(counts.get(t, 0), t) for t in self.terms if t not in chosen]
        rest = [t for _, t in heapq.nsmallest(OTHER_TERM_KEYS, others)]
        self.keys += tuple(f"t:{t}" for t in (*portable, *rest))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Signature:
        facts = json.loads(row["facts"])
        return cls(
            article_id=row["article_id"],
            moment=row["moment"],
            lang=row["lang"] or "",
            official=bool(row["official"]),
            extracted=bool(row["extracted"]),
            minhash=row["minhash"] or b"",
            numbers=Numbers(
                frozenset(facts["docs"]), frozenset(facts["values"]), frozenset(facts["dates"])
            ),
            tags=frozenset(facts["tags"]),
            title=frozenset(facts["title"]),
            headline=facts["headline"],
            terms=frozenset(facts.get("terms", ())).union(facts.get("numerals", ())),
            names=frozenset(facts.get("names", ())),
            numerals=frozenset(facts.get("numerals", ())),
            host=facts.get("host", ""),
        ).finish(lookups=False)


OFFICIAL_HOSTS = ("federalregister.gov", "bis.doc.gov", "bis.gov", "mofcom.gov.cn", "gov.cn")


def is_official(url: str, document_number: str | None) -> bool:
    """A government's own record: a Federal Register document, or a page on a government host."""
    if document_number:
        return True
    host = _host(url)
    return host.endswith(".gov") or any(host == h or host.endswith("." + h) for h in OFFICIAL_HOSTS)


def signature(row: dict[str, Any], tags: Iterable[str]) -> Signature:
    """The signature of a stored article row (id, url, title, text, summary, lang, moment, ...)."""
    raw = row.get("text") or row.get("summary") or ""
    body = fold_chars(raw)
    title = row.get("title") or ""
    terms = article_terms(title, raw)
    moment = datetime.fromisoformat(row["moment"]).timestamp() if row.get("moment") else 0.0
    return Signature(
        article_id=row["id"],
        moment=moment,
        lang=(row.get("lang") or "").split("-")[0],
        official=is_official(row.get("url") or "", row.get("document_number")),
        extracted=bool(row.get("extracted")),
        minhash=minhash(shingles(body, folded=True)),
        # A story's figures are in its headline and first paragraphs; the rest is background.
        numbers=numbers(f"{fold_chars(title)}\n{body[:FIGURES_WITHIN]}", folded=True),
        tags=frozenset(tags),
        title=title_terms(title),
        headline=headline_key(title),
        terms=terms.all,
        names=terms.names,
        numerals=frozenset(t for t in terms.all if t[0] == "#"),
        host=_host(row.get("url") or ""),
    ).finish()


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _figures_disagree(a: Signature, b: Signature) -> bool:
    """Both give a count (or a percentage, or an amount) and no two agree: two events on one
    subject, such as the next batch of the same list ("adds 27 entities", "adds 12 entities")."""
    return any(x and y and not x & y for x, y in zip(a.figures, b.figures, strict=True))


def _by_vocabulary(
    new: Signature, old: Signature, rules: StoryRules, banded: bool
) -> tuple[float, str] | None:
    """Whether ``new`` reports the same story as ``old`` by the rules that came first (copies,
    headlines, document numbers, tags and figures): (strength, reason), or None.

    ``banded``: the two share an LSH band; texts that share none are (almost surely) not copies,
    so their similarity is not worth computing.
    """
    gap = abs(new.moment - old.moment)
    docs_a, docs_b = new.numbers.documents, old.numbers.documents
    shared_docs = docs_a & docs_b if docs_a and docs_b else None
    if docs_a and docs_b and not shared_docs:
        return None  # two different rules or notices, however alike their wording
    in_window = gap <= rules.window_hours * HOUR
    if in_window:
        if new.headline == old.headline and len(new.headline) >= MIN_HEADLINE:
            return 1.0, "headline"
        if shared_docs:
            return 0.95, f"event: document {min(shared_docs).split(':', 1)[1]}"
    if banded and gap <= rules.text_days * 24 * HOUR:
        text = similarity(new.minhash, old.minhash)
        if text >= rules.text_threshold:
            return text, f"text {text:.2f}"
    if not in_window:
        return None
    a_tags, b_tags = new.tags, old.tags
    tags = 2 * len(a_tags & b_tags) / (len(a_tags) + len(b_tags)) if a_tags and b_tags else 0.0
    shared = len(new.numbers.values & old.numbers.values)
    if tags < rules.tag_overlap and shared < rules.min_numbers:
        return None
    if _figures_disagree(new, old):
        return None
    title = _jaccard(new.title, old.title) if new.lang == old.lang else 0.0
    if tags >= rules.tag_overlap:
        # The event's date corroborates a shared figure, never stands in for one.
        if shared >= rules.min_numbers or (
            # one figure, backed by the event's date or by nearly the same tags (a translation
            # names the same companies, chips, agencies and policies)
            shared
            and (
                new.numbers.dates & old.numbers.dates
                or (tags >= rules.strong_tags and min(len(a_tags), len(b_tags)) >= 4)
            )
        ):
            return 0.5 + tags / 10, "event: tags+numbers"
        if title >= rules.title_overlap:
            return 0.3 + tags / 10, "event: tags+title"
        # A translation of a report that gives no figures at all: nearly the same tags, in the
        # other language, within a day.
        if (
            new.lang != old.lang
            and new.lang
            and old.lang
            and not (new.numbers.values or old.numbers.values)
            and tags >= rules.strong_tags
            and min(len(a_tags), len(b_tags)) >= 4
            and gap <= TRANSLATION_HOURS * HOUR
        ):
            return 0.3 + tags / 10, "event: tags, translated"
    # Stories the vocabulary knows nothing about: figures and headline words must both agree.
    if shared >= rules.min_numbers and title >= rules.title_overlap / 2:
        return 0.3 + title / 10, "event: numbers+title"
    return None


NAMED_IN_REASON = 3  # shared terms the reason names, rarest first


def _by_names(
    new: Signature, old: Signature, rules: StoryRules, rarity: Rarity
) -> tuple[float, str] | None:
    """The names rule (see the module docstring). Its strength is at least ``MERGE_STRENGTH``:
    an article that names the same event as two stories shows they are one."""
    if not _may_name(new, old, rules):
        return None
    days = abs(new.moment - old.moment) / (24 * HOUR)
    shared = new.terms & old.terms
    if (new.lang == "zh") != (old.lang == "zh") and new.lang and old.lang:
        if days > TRANSLATED_DAYS:
            return None
        # The Chinese report's Latin-script names and its figures are what a translation keeps.
        zh = new if new.lang == "zh" else old
        portable = {t for t in zh.terms if t.isascii()}
        common = portable & shared
        if len(common) < 2:
            return None
        share = rarity.total_weight(common) / (rarity.total_weight(portable) or 1.0)
        if share < rules.translated_share:
            return None
        return MERGE_STRENGTH + share / 10, _named(
            common, zh.names | (portable - zh.numerals), rarity
        )
    overlap = rarity.cosine(new.terms, old.terms)
    # Shared numbers do not lower the bar: a deals round-up and a review of one laptop share its
    # price and model number, and report different things.
    if overlap < rules.name_similarity + rules.name_similarity_per_day * days:
        return None
    names = new.names | old.names
    if new.names and old.names:
        if rarity.cosine(new.terms & names, old.terms & names) < rules.name_agreement:
            return None
    elif not new.numerals & old.numerals:
        return None  # without names (Chinese), a figure must agree too
    return MERGE_STRENGTH + overlap / 10, _named(shared, names, rarity)


def _may_name(new: Signature, old: Signature, rules: StoryRules) -> bool:
    """The names rule's checks that need no weights (most candidates fail one)."""
    if not new.terms or not old.terms or new.host == old.host:
        # One outlet's two articles share its boilerplate ("Korea Chip News. Global desk."),
        # names and all; its copies of one event join by text.
        return False
    if abs(new.moment - old.moment) > rules.window_hours * HOUR:
        return False
    docs_a, docs_b = new.numbers.documents, old.numbers.documents
    if docs_a and docs_b and not docs_a & docs_b:
        return False
    if new.tags and old.tags and new.tags.isdisjoint(old.tags):
        # Where the vocabulary knows both, it names different companies, chips and policies:
        # another event, whatever figures they share (MOFCOM's 623 and Tokyo Electron's 623).
        return False
    return not _numerals_disagree(new, old) and not new.terms.isdisjoint(old.terms)


def _numerals_disagree(a: Signature, b: Signature) -> bool:
    """Both give percentages, or both give other numbers, and none of them agree: another event
    on one subject (513 firms and 51 %, 420 firms and 51 %). Numbers as written in headline and
    lead, without days of the month (14日 says when, not what)."""
    if not a.numerals or not b.numerals:
        return False
    pa, pb, qa, qb = a.percents, b.percents, a.plain, b.plain
    return bool((pa and pb and pa.isdisjoint(pb)) or (qa and qb and qa.isdisjoint(qb)))


def _named(shared: frozenset[str] | set[str], names: Iterable[str], rarity: Rarity) -> str:
    """``event: names (kessler, armenia, brooklyn; 46, 3.1e+06)``: the rarest shared names (or,
    without any, other terms), then the rarest shared numbers."""

    def rarest(terms: Iterable[str], n: int) -> list[str]:
        return sorted(terms, key=lambda t: (-rarity.weight(t), t))[:n]

    numbers = {t for t in shared if t[0] == "#"}
    named = rarest(shared & set(names), NAMED_IN_REASON) or rarest(
        shared - numbers, NAMED_IN_REASON
    )
    said = ", ".join(named)
    if numbers:
        figures = ", ".join(_readable(t[1:]) for t in rarest(numbers, 2))
        said = f"{said}; {figures}" if said else figures
    return f"event: names ({said})"


def _readable(number: str) -> str:
    """``2.3e+09`` -> ``2.3bn``, ``9.5e+07`` -> ``95m``: amounts as a reader writes them."""
    if "e+" not in number:
        return number
    value = float(number)
    for scale, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:g}"


class CandidateIndex(Protocol):
    """Where placement finds the stored articles a new one may join, and the term counts."""

    rarity: Rarity

    def count(self, sig: Signature) -> None:
        """Count the article's terms into the rarity weights (before it is matched)."""

    def candidates(self, sig: Signature, rules: StoryRules) -> Iterable[tuple[Signature, int]]:
        """The stored articles ``sig`` may join, each with how it was found (``VIA_*``)."""

    def weigh(self, sigs: list[Signature]) -> None:
        """Make sure the counts of these candidates' terms are at hand."""


@dataclass(frozen=True)
class Match:
    article_id: str
    strength: float
    gap: float  # seconds between the two articles
    reason: str


def matches(sig: Signature, index: CandidateIndex, rules: StoryRules) -> list[Match]:
    """Every stored article ``sig`` matches, best first (ties: nearer in time first).

    With ``rules.names``, the article's terms are counted first and its term keys added."""
    rarity = None
    if rules.names:
        index.count(sig)
        rarity = index.rarity
        sig.add_term_keys(rarity)
    found = []
    named = []  # candidates only the names rule may join: weighed, then compared
    for cand, via in index.candidates(sig, rules):
        if cand.article_id == sig.article_id:
            continue
        # The earlier rules find their pairs through their own bands and keys; a candidate only
        # a term key found is the names rule's (most of a rebuild's comparisons otherwise).
        hit = None if via == VIA_TERM else _by_vocabulary(sig, cand, rules, via == VIA_BAND)
        if hit:
            found.append(Match(cand.article_id, hit[0], abs(sig.moment - cand.moment), hit[1]))
        elif rarity is not None and _may_name(sig, cand, rules):
            named.append(cand)
    if rarity is not None and named:
        index.weigh(named)
        for cand in named:
            hit = _by_names(sig, cand, rules, rarity)
            if hit:
                gap = abs(sig.moment - cand.moment)
                found.append(Match(cand.article_id, hit[0], gap, hit[1]))
    found.sort(key=lambda m: (-m.strength, m.gap, m.article_id))
    return found


def reason_kind(reason: str) -> str:
    """``text 0.91`` -> ``text``; ``event: tags+numbers`` -> ``event``."""
    return reason.split(" ")[0].rstrip(":")


def lead_rank(sig: Signature) -> tuple[int, int, float]:
    """Smaller is a better lead: official first, then full text, then earliest."""
    return (0 if sig.official else 1, 0 if sig.extracted else 1, sig.moment)


# ---------------------------------------------------------------- rebuild, in memory
class MemoryIndex:
    """Signatures placed so far, looked up by LSH band and by key, for the rebuild.

    The rebuild adds articles in time order, so each key's list is sorted by time, and a
    signature older than ``horizon`` seconds before the newest can never match again: it is
    dropped, which keeps memory to the last few weeks of articles.
    """

    def __init__(self, horizon: float) -> None:
        self.horizon = horizon
        self.counts: dict[str, int] = {}  # every term's document frequency, whole store
        self.rarity = Rarity(self.counts, 0)
        self.sigs: dict[str, Signature] = {}
        self.bands: dict[int, list[str]] = {}
        self.keys: dict[str, tuple[list[float], list[str]]] = {}
        self._order: collections.deque[Signature] = collections.deque()
        self._added = 0

    def count(self, sig: Signature) -> None:
        counts = self.counts
        for term in sig.terms:
            counts[term] = counts.get(term, 0) + 1
        self.rarity.grew(1)

    def weigh(self, sigs: list[Signature]) -> None:
        pass  # every count is in memory

    def add(self, sig: Signature) -> None:
        self.sigs[sig.article_id] = sig
        self._order.append(sig)
        for band in sig.bands:
            self.bands.setdefault(band, []).append(sig.article_id)
        for key in sig.keys:
            moments, ids = self.keys.setdefault(key, ([], []))
            moments.append(sig.moment)
            ids.append(sig.article_id)
        self._evict(sig.moment - self.horizon)

    def _evict(self, before: float) -> None:
        while self._order and self._order[0].moment < before:
            old = self._order.popleft()
            del self.sigs[old.article_id]
            for band in old.bands:
                bucket = self.bands.get(band)
                if bucket is not None:
                    # Lists, not deques: most buckets hold one article, and a deque costs ~600
                    # bytes even then (a rebuild of 100,000 articles peaked 470 MB higher).
                    bucket.remove(old.article_id)
                    if not bucket:
                        del self.bands[band]
            self._added += 1
        if self._added >= 20_000:  # now and then, cut the key lists to the live window
            self._added = 0
            for key in list(self.keys):
                moments, ids = self.keys[key]
                lo = bisect.bisect_left(moments, before)
                if lo == len(ids):
                    del self.keys[key]
                elif lo:
                    self.keys[key] = (moments[lo:], ids[lo:])

    def candidates(self, sig: Signature, rules: StoryRules) -> Iterator[tuple[Signature, int]]:
        seen: set[str] = set()
        for band in sig.bands:
            for aid in self.bands.get(band, ())[-BAND_CANDIDATES:]:
                if aid not in seen:
                    seen.add(aid)
                    yield self.sigs[aid], VIA_BAND
        window = rules.window_hours * HOUR
        for key in sig.keys:
            found = self.keys.get(key)
            if not found:
                continue
            moments, ids = found
            lo = bisect.bisect_left(moments, sig.moment - window)
            term = key.startswith("t:")
            for aid in ids[max(lo, len(ids) - (TERM_CANDIDATES if term else KEY_CANDIDATES)) :]:
                if aid not in seen:
                    seen.add(aid)
                    yield self.sigs[aid], VIA_TERM if term else VIA_KEY
