"""Tagging: the vocabulary, the tagger, its evaluation and retagging a store.

Light on purpose: the CLI reads ``KINDS`` for ``--help``.
"""

KINDS = ("company", "chip", "material", "policy", "agency", "person")  # tag kinds, in display order
