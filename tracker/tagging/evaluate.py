"""Measure the tagger on a labelled set: precision, recall and F1 per kind, misses, false tags.

A case file is TOML with ``[[case]]`` tables: ``id``, ``title``, ``text``, ``tags`` (every tag the
text should get), optional ``traps`` (tags it must never get), ``lang`` and ``relevant``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tracker.errors import ConfigError
from tracker.tagging.tagger import RELEVANT, Tagger, relevance


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    text: str
    tags: frozenset[str]
    traps: frozenset[str] = frozenset()
    lang: str | None = None
    relevant: bool | None = None


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class EvalReport:
    cases: int = 0
    by_kind: dict[str, Score] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)
    misses: list[tuple[str, str]] = field(default_factory=list)  # (case id, tag) not given
    false_tags: list[tuple[str, str]] = field(default_factory=list)  # (case id, tag) given wrongly
    traps: list[tuple[str, str]] = field(default_factory=list)  # (case id, trap tag) given
    relevance_right: int = 0
    relevance_cases: int = 0
    relevance_wrong: list[tuple[str, bool, float]] = field(default_factory=list)  # id, wanted, got


def load_cases(directory: Path) -> list[Case]:
    """Every case in ``directory/*.toml``.

    Raises:
        ConfigError: no case files, invalid TOML, a case without id/text/tags, or a repeated id.
    """
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError(f"no *.toml case files in {directory}")
    cases: list[Case] = []
    seen: set[str] = set()
    for path in files:
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        for raw in data.get("case", []):
            if not isinstance(raw.get("id"), str) or "text" not in raw or "tags" not in raw:
                raise ConfigError(f"{path}: every [[case]] needs id, text and tags")
            if raw["id"] in seen:
                raise ConfigError(f"{path}: case id {raw['id']!r} is used twice")
            seen.add(raw["id"])
            cases.append(
                Case(
                    id=raw["id"],
                    title=raw.get("title", ""),
                    text=raw["text"],
                    tags=frozenset(raw["tags"]),
                    traps=frozenset(raw.get("traps", [])),
                    lang=raw.get("lang"),
                    relevant=raw.get("relevant"),
                )
            )
    return cases


def evaluate(tagger: Tagger, cases: list[Case]) -> EvalReport:
    """Tag every case and score the result against its labels."""
    report = EvalReport(cases=len(cases))
    weights = tagger.weights()
    for case in cases:
        hits = tagger.tag(case.title, case.text, case.lang)
        got = {h.tag_id for h in hits}
        for tag in got | case.tags:
            score = report.by_kind.setdefault(tag.split(":", 1)[0], Score())
            if tag in got and tag in case.tags:
                score.tp += 1
                report.overall.tp += 1
            elif tag in got:
                score.fp += 1
                report.overall.fp += 1
                report.false_tags.append((case.id, tag))
            else:
                score.fn += 1
                report.overall.fn += 1
                report.misses.append((case.id, tag))
        report.traps += [(case.id, t) for t in sorted(got & case.traps)]
        if case.relevant is not None:
            report.relevance_cases += 1
            value = relevance(hits, weights)
            if (value >= RELEVANT) == case.relevant:
                report.relevance_right += 1
            else:
                report.relevance_wrong.append((case.id, case.relevant, value))
    return report
