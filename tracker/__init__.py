"""tracker: watch the news and the official record on semiconductor export controls.

``Store``, ``Article`` and ``TrackerError`` load on first use (PEP 562), so that ``tracker --help``
does not wait for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.errors import TrackerError
    from tracker.models import Article
    from tracker.store import Store

__version__ = "0.1.0"
__all__ = ["Article", "Store", "TrackerError", "__version__"]
_LAZY = {"Article": "tracker.models", "Store": "tracker.store", "TrackerError": "tracker.errors"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tracker' has no attribute {name!r}")
