"""Scoring entity linking on labelled mentions: per language, precision and recall.

A directory holds a screening-list file (``lists.csv``, the CSL's shape) and TOML files of
``[[mention]]`` tables: ``id``, ``lang`` (en, zh-Hans, zh-Hant), ``text``, ``entity`` (the id it
must resolve to; absent or "" for none) and ``also`` (ids that may be linked besides, e.g. the
parent a subsidiary's name also names). Resolution is the fetch's own: the tagger's company tags
first, then every entity name found in the text.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tracker.errors import ParseError
from tracker.record.entities import Company, Entity, NamedEntry, build_entities, load_known_names
from tracker.record.link import NameMatcher
from tracker.record.screening import parse_screening_list
from tracker.tagging.evaluate import Score

LANGS = ("en", "zh-Hans", "zh-Hant")

Tags = Callable[[str, str | None], list[str]]  # text, lang -> the tag ids it carries


@dataclass(frozen=True)
class Mention:
    id: str
    lang: str
    text: str
    entity: str | None
    also: tuple[str, ...] = ()


@dataclass
class EntityReport:
    by_lang: dict[str, Score] = field(default_factory=dict)
    wrong: list[tuple[Mention, list[str]]] = field(default_factory=list)  # mention, linked

    mentions: dict[str, int] = field(default_factory=dict)  # per language

    def total(self) -> Score:
        out = Score()
        for s in self.by_lang.values():
            out.tp, out.fp, out.fn = out.tp + s.tp, out.fp + s.fp, out.fn + s.fn
        return out


def load_mentions(directory: Path) -> list[Mention]:
    """Every mention of the directory's TOML files.

    Raises:
        ParseError: a file that is not TOML, a mention without text or with an unknown lang.
    """
    out = []
    for path in sorted(directory.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ParseError(f"{path}: {exc}") from exc
        for n, raw in enumerate(data.get("mention", []), 1):
            if not raw.get("text") or raw.get("lang") not in LANGS:
                raise ParseError(f"{path}: mention {n} needs text and a lang of {', '.join(LANGS)}")
            out.append(
                Mention(
                    str(raw.get("id") or f"{path.stem}-{n}"),
                    raw["lang"],
                    raw["text"],
                    raw.get("entity") or None,
                    tuple(raw.get("also", ())),
                )
            )
    return out


class Resolver:
    """Entities from a list file and the vocabulary, resolved as the fetch links articles."""

    def __init__(self, lists_file: Path, companies: list[Company], tags: Tags) -> None:
        entries = parse_screening_list(lists_file.read_bytes())
        named = [
            NamedEntry(e.list_code, e.entry_id, e.name, e.alt_names, e.remarks) for e in entries
        ]
        self.entities: list[Entity] = build_entities(companies, named, load_known_names())
        listed = [e for e in self.entities if e.members]
        self._by_key: dict[str, set[str]] = {}
        for e in listed:
            for key in e.keys:
                self._by_key.setdefault(key, set()).add(e.id)
        self._by_tag = {e.tag: e.id for e in self.entities if e.tag}
        self._matcher = NameMatcher(self._by_key)
        self._tags = tags

    def resolve(self, text: str, lang: str | None) -> set[str]:
        found = {self._by_tag[t] for t in self._tags(text, lang) if t in self._by_tag}
        for key in self._matcher.find("", text):
            found |= self._by_key[key]
        return found


def evaluate(
    mentions: list[Mention], resolve: Callable[[str, str | None], set[str]]
) -> EntityReport:
    report = EntityReport({lang: Score() for lang in LANGS}, mentions=dict.fromkeys(LANGS, 0))
    for m in mentions:
        got = resolve(m.text, m.lang)
        score = report.by_lang[m.lang]
        report.mentions[m.lang] += 1
        extra = got - {m.entity} - set(m.also)
        hit = m.entity is not None and m.entity in got
        score.tp += hit
        score.fn += m.entity is not None and not hit
        score.fp += len(extra)
        if extra or (m.entity is not None and not hit):
            report.wrong.append((m, sorted(got)))
    return report
