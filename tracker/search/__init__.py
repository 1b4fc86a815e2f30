"""Search: the query language (``query``), running it (``engine``), snippets and tag trends.

Light on purpose: the CLI reads ``SORTS`` for ``--help``.
"""

SORTS = ("relevance", "newest", "oldest")
