"""Tagging: the vocabulary, the tagger, its evaluation and retagging a store.

Light on purpose: the CLI reads ``KINDS`` for ``--help``.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T", bound=Mapping[str, Any])

KINDS = ("company", "chip", "material", "policy", "agency", "person")  # tag kinds, in display order

# The order a reader wants tags in: what the item is about (a chip, a company, a material, a
# person) before the policy and the agency, and the broad terms nearly every article carries last.
SPECIFIC_FIRST = ("chip", "company", "material", "person", "policy", "agency")
BROAD = frozenset(
    {
        "policy:export-controls",
        "policy:export-licence",
        "policy:national-security",
        "agency:us-commerce",
        "agency:federal-register",
    }
)


def most_specific_first(tags: Sequence[T]) -> list[T]:
    """Tags (``kind``/``slug`` dicts, with ``count`` and ``in_title`` when known) as a reader
    wants them: specific before broad, then by kind, named in the title, mentioned most."""

    def key(tag: T) -> tuple[bool, int, bool, int, str]:
        kind, slug = str(tag["kind"]), str(tag["slug"])
        count = tag.get("count", 1)
        return (
            f"{kind}:{slug}" in BROAD,
            SPECIFIC_FIRST.index(kind) if kind in SPECIFIC_FIRST else len(SPECIFIC_FIRST),
            not tag.get("in_title"),
            -count if isinstance(count, int) else 0,
            slug,
        )

    return sorted(tags, key=key)
