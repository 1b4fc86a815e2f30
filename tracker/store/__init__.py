"""The store: the one SQLite file, and the only code that runs SQL on it."""

from tracker.store.connection import (
    SCHEMA_VERSION,
    damaged,
    explain_db_error,
    in_chunks,
    is_damage,
    iso,
)
from tracker.store.core import PAGE_ATTEMPTS, LogEntry, SaveCounts, Store

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
