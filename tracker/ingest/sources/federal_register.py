"""The Federal Register API: BIS documents (``documents.json``) and public inspection.

Traps the API sets (domain.md 1.1): the agency slug is ``industry-and-security-bureau``; type filters
take codes (RULE, PRORULE, NOTICE, PRESDOCU) while results show display names; an empty answer has
no ``results`` key; ``count`` stops at 10,000, so the date window is narrowed instead of paging
deeper; full-text search joins words with AND, so we fetch every document and tag locally.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tracker.errors import ParseError
from tracker.ingest.sources.base import Collected, SourceKind, Visit
from tracker.models import FeedItem

log = logging.getLogger(__name__)

API = "https://www.federalregister.gov/api/v1"
BIS = "industry-and-security-bureau"
COUNT_CAP = 10_000
TYPES = ("RULE", "PRORULE", "NOTICE", "PRESDOCU")  # the API's type codes, all asked by default
FIRST_WINDOW_DAYS = 30  # a new source looks this far back
FIELDS = (
    "document_number",
    "title",
    "type",
    "action",
    "abstract",
    "publication_date",
    "effective_on",
    "comments_close_on",
    "dates",
    "correction_of",
    "html_url",
    "pdf_url",
    "raw_text_url",
    "full_text_xml_url",
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


def correction_of(value: Any) -> str | None:
    """The document number a correction corrects (the API gives a number or its URL)."""
    found = re.search(r"\d{4}-\d{3,6}", str(value or ""))
    return found.group(0) if found else None


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
            "dates": doc.get("dates"),
            "correction_of": correction_of(doc.get("correction_of")),
            "html_url": doc.get("html_url"),
            "pdf_url": doc.get("pdf_url"),
            "full_text_xml_url": doc.get("full_text_xml_url"),
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


# ---------------------------------------------------------------- the two kinds
def _collect_documents(visit: Visit) -> Collected:
    options = visit.source.options
    since = _window_start(visit)
    url: str | None = documents_url(
        visit.source.url,
        agencies=options.get("agencies", [BIS]),
        types=options.get("types", list(TYPES)),
        since=since,
        per_page=options.get("per_page", 100),
    )
    items: list[FeedItem] = []
    warning = None
    pages = 0
    while url and pages < options.get("max_pages", 20):
        res = visit.get(url, "api")
        page = parse_documents(res.content)
        if pages == 0 and page.count >= COUNT_CAP:
            warning = f"{page.count} documents since {since}: the API stops at {COUNT_CAP}; set a later 'since'"
        items += page.items
        url = page.next_page_url
        pages += 1
    if url:
        warning = warning or f"stopped after {pages} pages (max_pages); more documents remain"
    notes = []
    if visit.store is not None and options.get("read_rules", True):
        notes = read_entity_list_rules(visit, items)
    return Collected(
        items=items,
        fetch_pages=bool(options.get("fetch_text", True)),
        warning=warning,
        lang="en",
        notes=notes,
    )


def read_entity_list_rules(visit: Visit, items: list[FeedItem]) -> list[str]:
    """Read the entries of each new Entity List rule into list events, the day it is published.

    A rule whose XML cannot be fetched is tried again next run; one that cannot be understood is
    recorded as such (its document is stored as any other) and never yields invented entries.
    Returns notes for the run's summary.
    """
    from tracker.errors import FetchError
    from tracker.record.names import name_keys
    from tracker.record.rules import is_entity_list_rule, parse_entity_list_rule
    from tracker.store.record import apply_rule, rule_read

    store = visit.store
    assert store is not None
    notes = []
    for item in items:
        f = item.fields
        doc, xml_url = f.get("document_number"), f.get("full_text_xml_url")
        if not (doc and xml_url and is_entity_list_rule(item.title, f.get("doc_type"))):
            continue
        if rule_read(store, doc):
            continue
        try:
            res = visit.get(xml_url, "rule")
        except FetchError as exc:
            notes.append(f"rule {doc}: its XML could not be fetched ({exc.reason}); next run")
            continue
        try:
            parsed = parse_entity_list_rule(res.content, f.get("citation") or "")
            entries, problems = parsed.entries, parsed.problems
        except ParseError as exc:
            entries, problems = [], [str(exc)]
        counts = apply_rule(
            store,
            visit.source.name,
            {
                "document_number": doc,
                "citation": f.get("citation") or "",
                "published": f.get("publication_date") or "",
            },
            [
                {
                    "action": e.action,
                    "name": e.name,
                    "aliases": e.aliases,
                    "keys": name_keys([e.name, *e.aliases]),
                    "country": e.country,
                    "address": e.address,
                    "license_requirement": e.license_requirement,
                    "license_policy": e.license_policy,
                    "citation": e.citation,
                }
                for e in entries
            ],
            problems,
            visit.now,
        )
        done = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "no entries"
        notes.append(f"Entity List rule {doc}: {done}")
        if problems:
            log.warning("rule %s: %s", doc, "; ".join(problems))
            notes.append(f"rule {doc}: not fully understood: {problems[0]}")
    return notes


def _window_start(visit: Visit) -> date:
    """From the last successful run (a day's overlap: the FR lists an issue the day before it is
    dated), else the configured ``since``, else 30 days back."""
    source = visit.source
    state = visit.store.source_state(source.name) if visit.store is not None else None
    if state and state.get("last_success_at"):
        return datetime.fromisoformat(state["last_success_at"]).date() - timedelta(days=1)
    if source.options.get("since"):
        try:
            return date.fromisoformat(source.options["since"])
        except ValueError as exc:
            raise ParseError(
                f"since = {source.options['since']!r} is not a date (YYYY-MM-DD)"
            ) from exc
    return (visit.now - timedelta(days=FIRST_WINDOW_DAYS)).date()


def _check_documents(raw: Mapping[str, Any]) -> str | None:
    for key in ("agencies", "types"):
        if key in raw and not all(isinstance(v, str) and v for v in raw[key]):
            return f"{key} must be a list of non-empty strings"
    bad = set(raw.get("types", [])) - set(TYPES)
    if bad:
        return (
            f"type {sorted(bad)[0]!r} is not one the API takes; use {', '.join(TYPES)} "
            "(the codes, not the display names)"
        )
    return None


def _collect_public_inspection(visit: Visit) -> Collected:
    res = visit.get(public_inspection_url(visit.source.url), "api")
    agencies = visit.source.options.get("agencies", [BIS])
    return Collected(items=parse_public_inspection(res.content, agencies), lang="en")


DOCUMENTS = SourceKind(
    name="federal-register",
    official=True,
    keys={
        "agencies": list,
        "types": list,
        "per_page": int,
        "max_pages": int,
        "since": str,
        "fetch_text": bool,
        "read_rules": bool,
    },
    default_url=API,
    collect=_collect_documents,
    check=_check_documents,
)
PUBLIC_INSPECTION = SourceKind(
    name="public-inspection",
    official=True,
    keys={"agencies": list},
    default_url=API,
    collect=_collect_public_inspection,
    check=_check_documents,
)
