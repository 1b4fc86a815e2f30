"""The US Consolidated Screening List's bulk files (trade.gov), as list entries.

The CSV (also TSV, and JSON ``{"results": [...]}``) merges 13 lists; ``source`` names each row's
list in long form (``Entity List (EL) - Bureau of Industry and Security``). Columns are added and
reordered over time, so every column is read by name; an entry is keyed on ``_id`` (or ``id``),
since ``entity_number`` repeats across lists. A file that lost a column we need, or was cut off
mid-row, is refused whole: a broken download must never look like a list that changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from tracker.errors import ParseError

REQUIRED = ("source", "name")
CODE = re.compile(r"\(([A-Z]{2,5})\)")
# The fields a change in which is a revision of the entry (a new address, a new citation...).
COMPARED = (
    "name",
    "alt_names",
    "type",
    "addresses",
    "countries",
    "citation",
    "start_date",
    "end_date",
    "license_requirement",
    "license_policy",
)


@dataclass(frozen=True)
class ListEntry:
    list_code: str  # EL, MEU, ...
    entry_id: str  # the file's _id / id
    name: str
    alt_names: tuple[str, ...] = ()
    type: str = ""
    addresses: str = ""
    countries: tuple[str, ...] = ()
    citation: str = ""  # federal_register_notice: "86 FR 36496"
    start_date: str = ""
    end_date: str = ""
    license_requirement: str = ""
    license_policy: str = ""
    remarks: str = ""
    source_url: str = ""

    @property
    def fingerprint(self) -> str:
        """What a revision compares: a digest of :data:`COMPARED`."""
        data = {k: getattr(self, k) for k in COMPARED}
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["alt_names"] = list(self.alt_names)
        row["countries"] = list(self.countries)
        row["fingerprint"] = self.fingerprint
        return row


def list_code(source: str) -> str:
    """``EL`` from ``Entity List (EL) - Bureau of Industry and Security``; the long name
    itself when it carries no code."""
    found = CODE.search(source)
    return found.group(1) if found else source.strip()


def parse_screening_list(content: bytes, content_type: str = "") -> list[ListEntry]:
    """Every entry of a CSL bulk file (CSV, TSV or JSON).

    Raises:
        ParseError: empty, not a CSL file, a needed column missing, or cut off mid-row.
    """
    text = content.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise ParseError("empty screening-list file")
    if text.lstrip().startswith("{") or "json" in content_type:
        rows = _json_rows(text)
    else:
        rows = _csv_rows(text, "\t" if "tab-separated" in content_type or _tabbed(text) else ",")
    return [entry for row in rows if (entry := _entry(row)) is not None]


def _tabbed(text: str) -> bool:
    head = text.split("\n", 1)[0]
    return head.count("\t") > head.count(",")


def _csv_rows(text: str, delimiter: str) -> list[Mapping[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ParseError(f"not a screening-list file: {exc}") from exc
    _check_columns(header)
    rows: list[Mapping[str, Any]] = []
    try:
        for number, cells in enumerate(reader, 2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise ParseError(
                    f"row {number} has {len(cells)} cells where the header has {len(header)}: "
                    "the file is cut off or malformed; the last good list is kept"
                )
            rows.append(dict(zip(header, cells, strict=True)))
    except csv.Error as exc:  # an unclosed quote: a download cut off mid-row
        raise ParseError(
            f"the file is cut off or malformed ({exc}); the last good list is kept"
        ) from exc
    return rows


def _json_rows(text: str) -> list[Mapping[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"the JSON file is cut off or malformed ({exc.msg}); the last good list is kept"
        ) from exc
    rows = data.get("results") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ParseError("not a screening-list file: no 'results' array")
    if rows:
        _check_columns(list(rows[0]))
    return [r for r in rows if isinstance(r, dict)]


def _check_columns(header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    if "_id" not in header and "id" not in header:
        missing.insert(0, "_id")
    if missing:
        raise ParseError(
            f"the screening-list file has no {', '.join(repr(m) for m in missing)} column "
            f"(columns: {', '.join(header[:12])}{' ...' if len(header) > 12 else ''}); "
            "the last good list is kept"
        )


def _split(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p.strip() for p in str(value or "").split(";") if p.strip())


def _addresses(value: Any) -> tuple[str, tuple[str, ...]]:
    """The addresses as one line each, and their countries (ISO-2 in JSON, the last part in CSV)."""
    if isinstance(value, list):
        lines, countries = [], []
        for a in value:
            if isinstance(a, dict):
                parts = [
                    str(a.get(k) or "").strip()
                    for k in ("address", "city", "state", "postal_code", "country")
                ]
                lines.append(", ".join(p for p in parts if p))
                if a.get("country"):
                    countries.append(str(a["country"]).strip())
        return "; ".join(lines), tuple(dict.fromkeys(countries))
    text = str(value or "").strip()
    countries = [line.rsplit(",", 1)[-1].strip() for line in text.split(";") if "," in line]
    return text, tuple(dict.fromkeys(c for c in countries if c))


def _entry(row: Mapping[str, Any]) -> ListEntry | None:
    entry_id = str(row.get("_id") or row.get("id") or "").strip()
    name = str(row.get("name") or "").strip()
    if not entry_id or not name:
        return None  # a row without a key or a name is nothing we could follow
    addresses, countries = _addresses(row.get("addresses"))
    return ListEntry(
        list_code=list_code(str(row.get("source") or "")),
        entry_id=entry_id,
        name=name,
        alt_names=_split(row.get("alt_names")),
        type=str(row.get("type") or "").strip(),
        addresses=addresses,
        countries=countries,
        citation=str(row.get("federal_register_notice") or "").strip(),
        start_date=str(row.get("start_date") or "").strip(),
        end_date=str(row.get("end_date") or "").strip(),
        license_requirement=str(row.get("license_requirement") or "").strip(),
        license_policy=str(row.get("license_policy") or "").strip(),
        remarks=str(row.get("remarks") or "").strip(),
        source_url=str(row.get("source_list_url") or "").strip(),
    )
