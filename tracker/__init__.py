"""tracker: watch the news and the official record on semiconductor export controls."""

from tracker.errors import TrackerError
from tracker.models import Article
from tracker.store import Store

__version__ = "0.1.0"
__all__ = ["Article", "Store", "TrackerError", "__version__"]
