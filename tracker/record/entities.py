"""One entity per real organisation: list entries and vocabulary companies joined by their names.

Two list entries, or an entry and a vocabulary company, are one entity when one of their names
folds to the same key (:func:`tracker.record.names.fold_name`): the Entity List's "Semiconductor
Manufacturing International Corporation" and the vocabulary's SMIC / 中芯国际 / 中芯國際 meet on
"semiconductor manufacturing international". Names are never joined by being *part* of each other,
so "Huawei Cloud Computing Technologies" stays its own entity beside Huawei; a parent is linked
only where the list says so ("subsidiary of ...", "affiliate of ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracker.record.names import fold_name, name_keys

PARENT = re.compile(
    r"\b(?:a\s+)?(?:subsidiary|affiliate|branch|division)\s+of\s+([^;.()]+)", re.IGNORECASE
)
SLUG_DROP = re.compile(r"[^\w]+")
SLUG_MAX = 48
# Which list's name an entity takes first (the export lists before the sanctions lists).
LIST_ORDER = ("EL", "MEU", "UVL", "DPL")


@dataclass(frozen=True)
class Company:
    """A vocabulary company: its tag and every alias (all scripts)."""

    slug: str
    name: str
    aliases: tuple[str, ...]

    @property
    def tag(self) -> str:
        return f"company:{self.slug}"


@dataclass(frozen=True)
class NamedEntry:
    """What joining needs of a list entry."""

    list_code: str
    entry_id: str
    name: str
    alt_names: tuple[str, ...] = ()
    remarks: str = ""


@dataclass
class Entity:
    id: str  # the vocabulary slug, else a slug of the main name
    name: str
    tag: str | None = None  # company:<slug> when the vocabulary knows it
    keys: set[str] = field(default_factory=set)
    members: list[tuple[str, str]] = field(default_factory=list)  # (list_code, entry_id)
    parent: str | None = None  # another entity's id


def slug_of(name: str) -> str:
    """A readable id: ``Hangzhou Hikvision Digital Technology Co., Ltd.`` -> the folded name
    with dashes; Chinese names keep their characters."""
    key = fold_name(name) or name.lower()
    return SLUG_DROP.sub("-", key).strip("-")[:SLUG_MAX].strip("-") or "entity"


def build_entities(companies: Iterable[Company], entries: Iterable[NamedEntry]) -> list[Entity]:
    """Every entity, each list entry in exactly one; companies with no list entry included."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    nodes: list[Company | NamedEntry] = [*companies, *entries]
    owner: dict[str, int] = {}
    node_keys: list[list[str]] = []
    for i, node in enumerate(nodes):
        parent[i] = i
        names = (
            [node.name, *node.aliases]
            if isinstance(node, Company)
            else [node.name, *node.alt_names]
        )
        keys = name_keys(names)
        node_keys.append(keys)
        for key in keys:
            if key in owner:
                a, b = find(owner[key]), find(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)  # the earlier node (a company) leads
            else:
                owner[key] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        groups.setdefault(find(i), []).append(i)
    entities: list[Entity] = []
    taken: set[str] = set()
    for members in groups.values():
        entity = _entity([nodes[i] for i in members], taken)
        for i in members:
            entity.keys.update(node_keys[i])
        entities.append(entity)
    _link_parents(entities, [n for n in nodes if isinstance(n, NamedEntry)])
    return entities


def _entity(nodes: list[Company | NamedEntry], taken: set[str]) -> Entity:
    company = next((n for n in nodes if isinstance(n, Company)), None)
    listed = sorted(
        (n for n in nodes if isinstance(n, NamedEntry)),
        key=lambda e: (
            LIST_ORDER.index(e.list_code) if e.list_code in LIST_ORDER else len(LIST_ORDER),
            e.entry_id,
        ),
    )
    if company is not None:
        ident, name, tag = company.slug, company.name, company.tag
    else:
        ident, name, tag = slug_of(listed[0].name), listed[0].name, None
    base, n = ident, 2
    while ident in taken:  # two organisations folding to one slug stay two entities
        ident, n = f"{base}-{n}", n + 1
    taken.add(ident)
    return Entity(ident, name, tag, members=[(e.list_code, e.entry_id) for e in listed])


def _link_parents(entities: list[Entity], entries: list[NamedEntry]) -> None:
    by_key = {k: e for e in entities for k in e.keys}
    by_member = {m: e for e in entities for m in e.members}
    for entry in entries:
        found = PARENT.search(entry.remarks) or PARENT.search(entry.name)
        if not found:
            continue
        key = fold_name(found.group(1))
        child = by_member[(entry.list_code, entry.entry_id)]
        above = by_key.get(key) if key else None
        if above is not None and above is not child:
            child.parent = above.id
