"""The store: the one SQLite file, and the only code that runs SQL on it."""

from tracker.store.core import (
    PAGE_ATTEMPTS,
    SCHEMA_VERSION,
    LogEntry,
    SaveCounts,
    Store,
    damaged,
    explain_db_error,
    in_chunks,
    is_damage,
    iso,
)

__all__ = [
    "PAGE_ATTEMPTS",
    "SCHEMA_VERSION",
    "LogEntry",
    "SaveCounts",
    "Store",
    "damaged",
    "explain_db_error",
    "in_chunks",
    "is_damage",
    "iso",
]
