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

from tracker.record.link import usable
from tracker.record.names import fold_name, name_keys
from tracker.textnorm import HAN_RE

PARENT = re.compile(
    r"\b(?:a\s+)?(?:subsidiary|affiliate|branch|division)\s+of\s+([^;.()]+)", re.IGNORECASE
)
SLUG_DROP = re.compile(r"[^\w]+")
SLUG_MAX = 60
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
class KnownNames:
    """One organisation's names in every script (``tracker/data/entities.toml``): the lists
    write only English, the news often only Chinese."""

    id: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class NamedEntry:
    """What joining needs of a list entry."""

    list_code: str
    entry_id: str
    name: str
    alt_names: tuple[str, ...] = ()
    remarks: str = ""
    keys: tuple[str, ...] = ()  # its names' keys when already known (stored with the entry)


@dataclass
class Entity:
    id: str  # the vocabulary slug, else a slug of the main name
    name: str
    tag: str | None = None  # company:<slug> when the vocabulary knows it
    keys: set[str] = field(default_factory=set)
    members: list[tuple[str, str]] = field(default_factory=list)  # (list_code, entry_id)
    parent: str | None = None  # another entity's id


def joinable(key: str) -> bool:
    """Whether two organisations sharing this name are one: a name that could link an article
    by itself, or a Chinese name of two characters or more (华为)."""
    return usable(key) or len(HAN_RE.findall(key)) >= 2


def slug_of(name: str) -> str:
    """A readable id: ``Hangzhou Hikvision Digital Technology Co., Ltd.`` -> the folded name
    with dashes; Chinese names keep their characters."""
    return slug_from_key(fold_name(name) or name.lower())


def slug_from_key(key: str) -> str:
    slug = SLUG_DROP.sub("-", key).strip("-")
    while len(slug) > SLUG_MAX and "-" in slug:
        slug = slug.rsplit("-", 1)[0]  # whole words only
    return slug[:SLUG_MAX] or "entity"


def load_known_names() -> list[KnownNames]:
    """The packaged table of names in every script."""
    import tomllib
    from importlib import resources

    text = resources.files("tracker").joinpath("data/entities.toml").read_text("utf-8")
    return [
        KnownNames(str(t["id"]), tuple(str(n) for n in t["names"]))
        for t in tomllib.loads(text).get("entity", [])
    ]


def build_entities(
    companies: Iterable[Company],
    entries: Iterable[NamedEntry],
    known: Iterable[KnownNames] = (),
) -> list[Entity]:
    """Every entity, each list entry in exactly one; vocabulary companies and the names table's
    organisations included whether listed or not (so they can be watched before they are)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    nodes: list[Company | KnownNames | NamedEntry] = [*companies, *known, *entries]
    owner: dict[str, int] = {}
    node_keys: list[list[str]] = []
    for i, node in enumerate(nodes):
        parent[i] = i
        if isinstance(node, Company):
            names = [node.name, *node.aliases]
        elif isinstance(node, KnownNames):
            names = list(node.names)
        else:
            names = [node.name, *node.alt_names]
        keys = list(node.keys) if isinstance(node, NamedEntry) and node.keys else name_keys(names)
        node_keys.append(keys)
        for key in keys:
            if not joinable(key):
                continue  # "Phoenix", "Global": shared by unrelated organisations
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


def _entity(nodes: list[Company | KnownNames | NamedEntry], taken: set[str]) -> Entity:
    company = next((n for n in nodes if isinstance(n, Company)), None)
    known = next((n for n in nodes if isinstance(n, KnownNames)), None)
    listed = sorted(
        (n for n in nodes if isinstance(n, NamedEntry)),
        key=lambda e: (
            LIST_ORDER.index(e.list_code) if e.list_code in LIST_ORDER else len(LIST_ORDER),
            e.entry_id,
        ),
    )
    if company is not None:
        ident, name, tag = company.slug, company.name, company.tag
    elif known is not None:  # an organisation we know by name, listed or not (yet): watchable
        ident, name, tag = known.id, (listed[0].name if listed else known.names[0]), None
    else:
        first = listed[0]  # its stored keys start with its name's (no folding again)
        ident = slug_from_key(first.keys[0]) if first.keys else slug_of(first.name)
        name, tag = first.name, None
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
