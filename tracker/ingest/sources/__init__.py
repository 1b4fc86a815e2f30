"""Source kinds: the registry, one line per kind; each kind's module says the rest.

To add a kind: write a module beside these that defines a :class:`SourceKind` (its keys in
tracker.toml, its defaults and checks, how it collects items) and add it to ``KINDS`` below.
"""

from tracker.ingest.sources.base import SourceKind
from tracker.ingest.sources.federal_register import DOCUMENTS, PUBLIC_INSPECTION
from tracker.ingest.sources.feeds import RSS
from tracker.ingest.sources.google_news import GOOGLE_NEWS
from tracker.ingest.sources.mofcom import MOFCOM
from tracker.ingest.sources.pages import PAGE
from tracker.ingest.sources.screening import SCREENING_LIST

KINDS: dict[str, SourceKind] = {
    kind.name: kind
    for kind in (
        RSS,  # RSS 0.9x/1.0/2.0 and Atom feeds
        PAGE,  # an HTML listing whose links are articles
        DOCUMENTS,  # the Federal Register's documents.json search
        PUBLIC_INSPECTION,  # documents on public inspection before publication
        GOOGLE_NEWS,  # a Google News RSS search
        SCREENING_LIST,  # the US Consolidated Screening List: list entries and their changes
        MOFCOM,  # China's Ministry of Commerce announcements, keyed on their numbers
    )
}

__all__ = ["KINDS", "SourceKind"]
