"""Search: the query language (``query``), running it (``engine``), snippets and tag trends.

Light on purpose: the CLI reads ``SORTS`` for ``--help``.
"""

SORTS = ("relevance", "newest", "oldest")
LANGS = ("en", "zh", "zh-Hans", "zh-Hant")  # zh: either script


def known_lang(value: str) -> str | None:
    """``value`` spelt as in :data:`LANGS` (any letter case), or None when it is not one."""
    return next((lang for lang in LANGS if lang.lower() == value.strip().lower()), None)
