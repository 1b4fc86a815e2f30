"""The tagging vocabulary: packaged data plus an optional user file, checked on load."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tracker.errors import ConfigError
from tracker.tagging import KINDS
from tracker.textnorm import Speller, script_variants, spellings

ENTRY_KEYS = {"slug", "name", "aliases", "cased", "stop", "context", "patterns", "weight"}
CONTEXT_KEYS = {"alias", "near", "before", "after", "doc", "script", "window", "cased"}
# How much one mention says about export controls, by kind, unless an entry sets its own weight.
DEFAULT_WEIGHTS = {
    "company": 0.5,
    "chip": 1.0,
    "material": 1.0,
    "policy": 2.0,
    "agency": 1.0,
    "person": 0.5,
}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Context:
    """An alias that tags its entry only in context.

    ``near``: a cue within ``window`` characters on either side, in the same sentence; ``before`` /
    ``after``: the same on one side only (美国 before 商务部 is its owner, after it often its
    object); ``doc``: a cue anywhere in the article; ``script``: the article's script (``hans`` or
    ``hant``). With no cues at all, the script alone decides. ``cased``: the alias must match with
    its letter case.
    """

    alias: str
    near: tuple[str, ...] = ()
    doc: tuple[str, ...] = ()
    script: str | None = None
    window: int = 20
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    cased: bool = False


@dataclass(frozen=True)
class Entry:
    """One vocabulary entry; its tag is ``kind:slug``."""

    kind: str
    slug: str
    name: str
    aliases: tuple[str, ...]  # matched case-insensitively
    cased: tuple[str, ...] = ()  # matched with their letter case
    stop: tuple[str, ...] = ()  # phrases that contain an alias but must not tag this entry
    context: tuple[Context, ...] = ()  # aliases that need context to tag this entry
    patterns: tuple[str, ...] = ()  # regular expressions over folded text
    weight: float | None = None  # relevance weight; None takes the kind's default

    @property
    def relevance_weight(self) -> float:
        return DEFAULT_WEIGHTS[self.kind] if self.weight is None else self.weight

    @property
    def tag_id(self) -> str:
        return f"{self.kind}:{self.slug}"


def packaged_vocabulary_text() -> str:
    return resources.files("tracker").joinpath("data/vocabulary.toml").read_text("utf-8")


SPELLINGS_FILE = "data/spellings.json"


def vocabulary_terms(entries: list[Entry]) -> tuple[set[str], set[str]]:
    """Every alias, cue and stop phrase, and every pattern, of ``entries``."""
    terms: set[str] = set()
    patterns: set[str] = set()
    for e in entries:
        terms.update(e.aliases, e.cased, e.stop)
        for c in e.context:
            terms.update((c.alias, *c.near, *c.before, *c.after, *c.doc))
        patterns.update(e.patterns)
    return terms, patterns


def compute_spellings(entries: list[Entry]) -> dict[str, dict[str, list[str]]]:
    """The spellings table for ``entries`` (loads OpenCC's conversion dictionaries)."""
    terms, patterns = vocabulary_terms(entries)
    return {
        "terms": {t: sorted(spellings(t)) for t in sorted(terms)},
        "patterns": {p: sorted(script_variants(p)) for p in sorted(patterns)},
    }


def packaged_speller() -> Speller:
    """Spellings of the packaged vocabulary, precomputed (``python -m tracker.tagging.vocabulary``)."""
    path = resources.files("tracker").joinpath(SPELLINGS_FILE)
    data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    return Speller(data.get("terms", {}), data.get("patterns", {}))


def load_vocabulary(user_file: Path | None = None) -> list[Entry]:
    """The packaged entries, extended or overridden (same kind and slug) by ``user_file``.

    A user entry with a known slug adds its aliases to the packaged entry; ``name`` replaces it.

    Raises:
        ConfigError: an entry is malformed; the message names the file, the line and the reason.
    """
    entries = {e.tag_id: e for e in parse_vocabulary(packaged_vocabulary_text(), "vocabulary.toml")}
    if user_file is not None:
        if not user_file.exists():
            raise ConfigError(
                f"vocabulary file {user_file} does not exist; fix [settings] vocabulary"
            )
        for extra in parse_vocabulary(user_file.read_text("utf-8"), str(user_file)):
            base = entries.get(extra.tag_id)
            if base is None:
                entries[extra.tag_id] = extra
                continue
            entries[extra.tag_id] = Entry(
                kind=base.kind,
                slug=base.slug,
                name=extra.name or base.name,
                aliases=_unique(base.aliases + extra.aliases),
                cased=_unique(base.cased + extra.cased),
                stop=_unique(base.stop + extra.stop),
                context=base.context + extra.context,
                patterns=_unique(base.patterns + extra.patterns),
                weight=extra.weight if extra.weight is not None else base.weight,
            )
    return list(entries.values())


def parse_vocabulary(text: str, where: str) -> list[Entry]:
    """Entries from one vocabulary file's text; ``where`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    entries: list[Entry] = []
    seen: set[str] = set()
    for kind, raw_entries in data.items():
        if kind not in KINDS:
            line = _line_of(text, f"[[{kind}]]")
            raise ConfigError(
                f"{where}:{line}: unknown kind {kind!r}; kinds are {', '.join(KINDS)}"
            )
        if not isinstance(raw_entries, list):
            raise ConfigError(f"{where}: {kind} entries must be written [[{kind}]]")
        for raw in raw_entries:
            entry = _entry(kind, raw, text, where)
            if entry.tag_id in seen:
                line = _line_of(text, f'"{entry.slug}"', nth=2)
                raise ConfigError(f"{where}:{line}: duplicate slug {entry.tag_id!r}")
            seen.add(entry.tag_id)
            entries.append(entry)
    return entries


def _entry(kind: str, raw: dict[str, Any], text: str, where: str) -> Entry:
    slug = raw.get("slug")
    line = _line_of(text, f'"{slug}"') if slug else "?"
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise ConfigError(
            f"{where}:{line}: {kind} entry needs a slug of a-z, 0-9 and '-', got {slug!r}"
        )
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{where}:{line}: {kind}:{slug} has unknown key {key!r}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("aliases", "cased", "stop"):
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}:{line}: {kind}:{slug} {key} must be a list of strings")
        if any(not v.strip() for v in values):
            raise ConfigError(f"{where}:{line}: {kind}:{slug} has an empty alias in {key}")
        lists[key] = tuple(v.strip() for v in values)
    name = raw.get("name", "")
    if not isinstance(name, str):
        raise ConfigError(f"{where}:{line}: {kind}:{slug} name must be a string")
    for key in ("patterns",):
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ConfigError(f"{where}:{line}: {kind}:{slug} patterns must be non-empty strings")
        for pattern in values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(
                    f"{where}:{line}: {kind}:{slug} bad pattern {pattern!r}: {exc}"
                ) from exc
    weight = raw.get("weight")
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | float)):
        raise ConfigError(f"{where}:{line}: {kind}:{slug} weight must be a number")
    contexts = tuple(_context(c, f"{where}:{line}: {kind}:{slug}") for c in raw.get("context", []))
    if not (lists["aliases"] or lists["cased"] or contexts or raw.get("patterns")):
        raise ConfigError(f"{where}:{line}: {kind}:{slug} has no aliases, context or patterns")
    return Entry(
        kind,
        slug,
        name,
        lists["aliases"],
        lists["cased"],
        lists["stop"],
        contexts,
        tuple(raw.get("patterns", [])),
        float(weight) if weight is not None else None,
    )


def _context(raw: Any, label: str) -> Context:
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: each context must be a table with an alias")
    unknown = set(raw) - CONTEXT_KEYS
    if unknown:
        raise ConfigError(f"{label}: context has unknown key {sorted(unknown)[0]!r}")
    alias = raw.get("alias")
    if not isinstance(alias, str) or not alias.strip():
        raise ConfigError(f"{label}: a context needs a non-empty alias")
    cues: dict[str, tuple[str, ...]] = {}
    for key in ("near", "before", "after", "doc"):
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(
            isinstance(v, str) and v.strip() for v in values
        ):
            raise ConfigError(
                f"{label}: context {alias!r} {key} must be a list of non-empty strings"
            )
        cues[key] = tuple(values)
    script = raw.get("script")
    if script not in (None, "hans", "hant"):
        raise ConfigError(f"{label}: context {alias!r} script must be 'hans' or 'hant'")
    window = raw.get("window", 20)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ConfigError(f"{label}: context {alias!r} window must be a positive whole number")
    cased = raw.get("cased", False)
    if not isinstance(cased, bool):
        raise ConfigError(f"{label}: context {alias!r} cased must be true or false")
    return Context(
        alias.strip(),
        cues["near"],
        cues["doc"],
        script,
        window,
        cues["before"],
        cues["after"],
        cased,
    )


def _line_of(text: str, needle: str, nth: int = 1) -> int | str:
    """The line of the ``nth`` occurrence of ``needle`` (for error messages), or "?"."""
    at = -1
    for _ in range(nth):
        at = text.find(needle, at + 1)
        if at < 0:
            return "?"
    return text.count("\n", 0, at) + 1


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


if __name__ == "__main__":
    # Regenerate the precomputed spellings after editing data/vocabulary.toml.
    target = Path(__file__).parent.parent / SPELLINGS_FILE
    table = compute_spellings(parse_vocabulary(packaged_vocabulary_text(), "vocabulary.toml"))
    target.write_text(
        json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n", "utf-8"
    )
    print(f"wrote {target}: {len(table['terms'])} terms, {len(table['patterns'])} patterns")
