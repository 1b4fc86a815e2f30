"""The Federal Register API: BIS documents (``documents.json``) and public inspection.

Traps the API sets (domain.md 1.1): the agency slug is ``industry-and-security-bureau``; type filters
take codes (RULE, PRORULE, NOTICE, PRESDOCU) while results show display names; an empty answer has
no ``results`` key; ``count`` stops at 10,000, so the date window is narrowed instead of paging
deeper; full-text search joins words with AND, so we fetch every document and tag locally.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from tracker.errors import ParseError
from tracker.models import FeedItem

BIS = "industry-and-security-bureau"
COUNT_CAP = 10_000
FIELDS = (
    "document_number",
    "title",
    "type",
    "action",
    "abstract",
    "publication_date",
    "effective_on",
    "comments_close_on",
    "html_url",
    "pdf_url",
    "raw_text_url",
    "citation",
    "cfr_references",
    "agencies",
)


@dataclass
class DocumentsPage:
    items: list[FeedItem] = field(default_factory=list)
    next_page_url: str | None = None
    count: int = 0


def documents_url(
    base: str, *, agencies: list[str], types: list[str], since: date, per_page: int = 100
) -> str:
    """The ``documents.json`` search for these agencies and types, newest first, from ``since``."""
    params: list[tuple[str, str]] = [("conditions[agencies][]", a) for a in agencies]
    params += [("conditions[type][]", t) for t in types]
    params += [
        ("conditions[publication_date][gte]", since.isoformat()),
        ("order", "newest"),
        ("per_page", str(per_page)),
    ]
    params += [("fields[]", f) for f in FIELDS]
    return f"{base.rstrip('/')}/documents.json?{urlencode(params)}"


def public_inspection_url(base: str) -> str:
    return f"{base.rstrip('/')}/public-inspection-documents/current.json"


def _json(content: bytes) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(
            f"the Federal Register answered with something that is not JSON: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ParseError("the Federal Register answered with JSON that is not an object")
    if "errors" in data:
        raise ParseError(f"the Federal Register refused the query: {data['errors']}")
    return data


def parse_documents(content: bytes) -> DocumentsPage:
    """One page of ``documents.json``; an empty window is a page with no items, not an error."""
    data = _json(content)
    page = DocumentsPage(next_page_url=data.get("next_page_url"), count=int(data.get("count") or 0))
    for doc in data.get("results") or []:  # absent, not empty, when nothing matched
        if doc.get("html_url"):
            page.items.append(document_item(doc))
    return page


def document_item(doc: dict[str, Any]) -> FeedItem:
    """A document as an item: its page is the html_url, its full text the raw_text_url."""
    published = _day(doc.get("publication_date"))
    abstract = doc.get("abstract") or ""
    return FeedItem(
        url=doc["html_url"],
        title=doc.get("title") or doc.get("document_number", ""),
        summary=abstract,
        published_at=published,
        guid=doc.get("document_number", ""),
        text_url=doc.get("raw_text_url"),
        fields={
            "document_number": doc.get("document_number"),
            "citation": doc.get("citation"),
            "doc_type": doc.get("type"),
            "action": doc.get("action"),
            "publication_date": doc.get("publication_date"),
            "effective_on": doc.get("effective_on"),
            "comments_close_on": doc.get("comments_close_on"),
            "html_url": doc.get("html_url"),
            "pdf_url": doc.get("pdf_url"),
            "cfr_references": doc.get("cfr_references") or [],
        },
    )


def parse_public_inspection(content: bytes, agencies: list[str]) -> list[FeedItem]:
    """Documents on public inspection (filed before publication) from these agencies."""
    data = _json(content)
    wanted = set(agencies)
    items = []
    for doc in data.get("results") or []:
        slugs = {a.get("slug") for a in doc.get("agencies") or [] if isinstance(a, dict)}
        if (wanted and not slugs & wanted) or not doc.get("html_url"):
            continue
        filed = doc.get("filed_at") or ""
        scheduled = doc.get("publication_date") or "a date not yet set"
        item = document_item(doc)
        item.summary = (
            f"Filed for public inspection {filed[:16].replace('T', ' ')}; to be published in the "
            f"Federal Register on {scheduled}. " + (doc.get("abstract") or "")
        ).strip()
        item.text_url = None  # the text is not final until publication
        item.published_at = _moment(filed) or item.published_at
        item.fields["action"] = "Public inspection"
        items.append(item)
    return items


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        d = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
