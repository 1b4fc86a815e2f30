"""Entity List rules from the Federal Register: the entries a rule adds, revises and removes.

A BIS final rule amending Supplement No. 4 to part 744 carries its entries in the full-text XML:
amendment paragraphs (``AMDPAR``) say what is done ("By adding under CHINA, in alphabetical
order, entries for “...”"; "By removing under RUSSIA, the entry for “...”"), and a ``GPOTABLE``
lists the added and revised entries as rows of Country | Entity | License requirement | License
review policy | Federal Register citation. The country cell is blank on continuation rows; rows of
stars stand for the untouched entries between; an entity cell holds the name, its aliases (items
after an em dash, "a.k.a., the following two aliases: —A; and —B.") and the address. Before
publication the citation reads "[INSERT FR PAGE NUMBER]"; the rule's own citation fills it.

What is not understood is said, never guessed: a table without Country and Entity columns, or a
row the amendments do not say is added or revised, is reported and yields no entry.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tracker.errors import ParseError
from tracker.record.names import fold_name

VERB = re.compile(r"\b(adding|revising|removing|amending)\b", re.IGNORECASE)
ACTION = {"adding": "added", "revising": "revised", "amending": "revised", "removing": "removed"}
QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")
# The destination an amendment is under: capitals ("CHINA, PEOPLE'S REPUBLIC OF"), up to "the".
UNDER = re.compile(
    r"\bunder\s+(?:the\s+destination\s+of\s+)?([A-Z][A-Z'’.-]*(?:,?\s+[A-Z][A-Z'’.-]*)*)"
)
STARS = re.compile(r"^[*\s]+$")
PLACEHOLDER = re.compile(r"\[INSERT FR PAGE NUMBER\]", re.IGNORECASE)
AKA = re.compile(r",?\s*\(?a\.k\.a\.?,?\)?\s*(?:,?\s*the following (?:\w+ )?alias(?:es)?:?)?", re.I)
ACRONYM = re.compile(r"\s*\(([A-Z][A-Za-z0-9&.-]{1,14})\)")
# Parts of a name that follow a comma ("Huawei Technologies Co., Ltd."), not an address.
LEGAL_PART = re.compile(
    r"^(?:ltd|limited|inc|incorporated|llc|l\.l\.c|co|corp|corporation|plc|gmbh|ag|s\.a|jsc|"
    r"co\.,? ltd|pte\.? ltd|pvt\.? ltd|sdn\.? bhd|limited liability company)\.?$",
    re.IGNORECASE,
)
ABBREVIATION = re.compile(r"(?:\b(?:Co|Ltd|Inc|Corp|No|St|Rd|Ave|Bldg|Jr|Sr|Dr|Mr|[A-Z])\.)$")
HEADS = {
    "country": ("country",),
    "entity": ("entity", "entities"),
    "license_requirement": ("license requirement", "licence requirement"),
    "license_policy": ("license review policy", "review policy"),
    "citation": ("federal register citation", "citation"),
}


@dataclass(frozen=True)
class RuleEntry:
    action: str  # added | revised | removed
    name: str
    country: str = ""
    aliases: tuple[str, ...] = ()
    address: str = ""
    license_requirement: str = ""
    license_policy: str = ""
    citation: str = ""


@dataclass
class RuleParse:
    entries: list[RuleEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what was not understood, in words

    @property
    def understood(self) -> bool:
        return bool(self.entries) and not self.problems


def is_entity_list_rule(title: str, doc_type: str | None) -> bool:
    """A final rule whose title says it changes the Entity List (additions, revisions,
    removals); the proposed rules and notices that mention the list are not."""
    return (doc_type or "").lower() in ("rule", "final rule") and "entity list" in title.lower()


def parse_entity_list_rule(content: bytes, citation: str = "") -> RuleParse:
    """The entries a rule's full-text XML adds, revises and removes.

    Raises:
        ParseError: not XML, or XML declaring entities (never expanded).
    """
    if b"<!ENTITY" in content[:4096] or b"<!DOCTYPE" in content[:4096]:
        raise ParseError("the rule's XML declares a DTD or entities; refused unread")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise ParseError(f"the rule's XML is cut off or malformed ({exc})") from exc
    page = _page(citation)
    out = RuleParse()
    quoted: dict[str, str] = {}  # folded name -> action, from the amendment paragraphs
    unnamed: set[str] = set()  # actions an amendment takes without quoting names ("23 entities")
    in_list = False
    tables = 0
    for el in root.iter():
        if el.tag == "AMDPAR":
            text = _text(el)
            if re.search(r"supplement\s+no\.?\s*4\s+to\s+part\s+744", text, re.I):
                in_list = True
            elif re.search(r"§\s*7\d\d\.|\bpart\s+7\d\d\b", text, re.I) and not VERB.search(text):
                in_list = False  # an amendment to another section
            if not in_list:
                continue
            for action, names, country in _amendments(text):
                if not names:
                    unnamed.add(action)
                for name in names:
                    if action == "removed":
                        out.entries.append(RuleEntry("removed", name, country, citation=citation))
                    elif key := fold_name(name):
                        quoted[key] = action
        elif el.tag == "GPOTABLE" and in_list:
            tables += 1
            _table(el, tables, quoted, unnamed, page, out)
    if not out.entries and not out.problems:
        out.problems.append("no Entity List table or removal found in the rule's amendments")
    return out


def _amendments(text: str) -> list[tuple[str, list[str], str]]:
    """(action, the names it quotes, the country it is under) for each clause of an amendment
    paragraph ("By adding ... “A”, “B”; and by removing ... “C”")."""
    out = []
    parts = VERB.split(text)  # [before, verb, clause, verb, clause, ...]
    for verb, clause in zip(parts[1::2], parts[2::2], strict=False):
        under = UNDER.search(clause)
        names = [_clean(n).rstrip(",;.") for n in QUOTED.findall(clause)]
        out.append((ACTION[verb.lower()], names, under.group(1).strip(" ,") if under else ""))
    return out


def _table(
    table: ET.Element,
    number: int,
    quoted: dict[str, str],
    unnamed: set[str],
    page: str,
    out: RuleParse,
) -> None:
    heads = [_text(c).lower() for c in table.iter("CHED")]
    cols = {
        field: next((i for i, h in enumerate(heads) if any(h.startswith(w) for w in words)), None)
        for field, words in HEADS.items()
    }
    if cols["country"] is None or cols["entity"] is None:
        out.problems.append(
            f"table {number} is not an Entity List table (columns: {', '.join(heads) or 'none'});"
            " nothing was read from it"
        )
        return
    country = ""
    for n, row in enumerate(table.iter("ROW"), 1):
        cells = [_text(c) for c in row.findall("ENT")]
        values = {f: cells[i] if i is not None and i < len(cells) else "" for f, i in cols.items()}
        if values["country"] and not STARS.match(values["country"]):
            country = values["country"].rstrip(":")
        text = values["entity"]
        if not text or STARS.match(text) or text.lower().startswith("[reserved"):
            continue
        name, aliases, address = split_entity(text)
        key = fold_name(name)
        action = _action(key, quoted, unnamed)
        if action is None:
            out.problems.append(
                f"table {number}, row {n} ({name}): the amendments do not say whether it is "
                "added or revised; it was not read"
            )
            continue
        cite = PLACEHOLDER.sub(page, values["citation"]).strip() if page else values["citation"]
        out.entries.append(
            RuleEntry(
                action,
                name,
                country,
                aliases,
                address,
                values["license_requirement"],
                values["license_policy"],
                cite,
            )
        )


def _action(key: str | None, quoted: dict[str, str], unnamed: set[str]) -> str | None:
    """What the amendments do to a row: what the clause quoting its name says, else the one
    action taken without naming names; None when that is not one action."""
    if key:
        if key in quoted:
            return quoted[key]
        near = {a for q, a in quoted.items() if q.startswith(key) or key.startswith(q)}
        if len(near) == 1:
            return near.pop()
    kinds = unnamed - {"removed"}
    return next(iter(kinds)) if len(kinds) == 1 else None


def split_entity(text: str) -> tuple[str, tuple[str, ...], str]:
    """Name, aliases and address of an entity cell."""
    text = _clean(text)
    aka = AKA.search(text) if "a.k.a" in text.lower() else None
    if aka:
        name, rest = text[: aka.start()], text[aka.end() :]
        items = [i.strip(" ;,") for i in rest.split("—") if i.strip(" ;,")]
        aliases = [re.sub(r"^and\s+", "", i).strip(" ;,") for i in items]
        address = ""
        if aliases:
            last, address = _cut_sentence(aliases[-1])
            aliases[-1] = last
    else:
        name, address = _cut_name(text)
        aliases = []
    acronym = ACRONYM.search(name)
    if acronym and acronym.end() == len(name.rstrip(" ,")):
        aliases.insert(0, acronym.group(1))
        name = name[: acronym.start()]
    aliases = [_tidy(a) for a in aliases if _tidy(a)]
    return name.strip(" ,;"), tuple(aliases), address.strip(" ,;")


def _tidy(alias: str) -> str:
    """An alias item without the list's punctuation ("—B; and", "—C."), keeping "Ltd."."""
    alias = re.sub(r"[;,]?\s*\band$", "", alias.strip()).strip(" ;,")
    if alias.endswith(".") and not ABBREVIATION.search(alias):
        alias = alias[:-1]
    return alias.strip()


def _cut_name(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    taken = 1
    while taken < len(parts) and LEGAL_PART.match(parts[taken]):
        taken += 1
    return ", ".join(parts[:taken]), ", ".join(parts[taken:])


def _cut_sentence(text: str) -> tuple[str, str]:
    """``Alias C. 5 Road, City`` -> (``Alias C``, ``5 Road, City``): the first full stop that
    does not close an abbreviation (Co., Ltd., No.)."""
    for m in re.finditer(r"\.\s+", text):
        if not ABBREVIATION.search(text[: m.start() + 1]):
            return text[: m.start()], text[m.end() :]
    return text, ""


def _text(el: ET.Element) -> str:
    return " ".join(" ".join(el.itertext()).split())


def _clean(text: str) -> str:
    return " ".join(text.replace("\u2014", " \u2014").split()).replace(" \u2014 ", " \u2014")


def _page(citation: str) -> str:
    """``90 FR 44561`` -> ``44561`` (fills a pre-publication placeholder)."""
    m = re.search(r"\bFR\s+(\d+)", citation)
    return m.group(1) if m else ""
