"""What every page shares: the reader's I/O, the request's parameters checked, and one answer
per page in HTML or JSON (``?format=json``), so a shared URL and a script read the same thing."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tracker.config.digest import DigestSettings
from tracker.search.query import parse_when
from tracker.store import Store
from tracker.tagging.tagger import Tagger

MAX_QUERY = 1_000  # characters: a longer query is a mistake or an attack, not a search


@dataclass(frozen=True)
class Reader:
    """What the pages read with: the store file (opened read-only, one connection per
    thread), the tagger (for the query's company and policy words), the digest's settings and
    sender (for the digest page, as ``tracker digest`` would mail it) and the clock."""

    db_path: Path
    tagger: Tagger
    now: Callable[[], datetime]
    digest: DigestSettings = field(default_factory=DigestSettings)
    sender: str = "tracker@localhost"


class BadRequest(Exception):
    """A request the reader cannot answer: shown as a 400 page with the one-line reason."""


class Pages:
    """The templates and the per-thread read-only store the views share."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.env = Environment(
            loader=PackageLoader("tracker.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.env.filters["marked"] = marked
        self.env.filters["day"] = lambda v: str(v or "")[:10]
        self.env.filters["lang2"] = lambda v: str(v or "en")[:2]
        self._local = threading.local()

    def store(self) -> Store:
        opened = getattr(self._local, "store", None)
        if opened is None:
            opened = self._local.store = Store.open(self.reader.db_path, readonly=True)
        return opened

    def html(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def answer(self, request: Request, name: str, data: Any, **context: Any) -> Response:
        """``data`` as JSON when the request asks for it, else the page ``name`` showing it
        (``data`` and the JSON link are in the template's context)."""
        fmt = param(request, "format") or "html"
        if fmt == "json":
            return json_response(data)
        if fmt != "html":
            raise BadRequest(f"unknown format {fmt!r}; this page answers html or json")
        json_url = str(request.url.include_query_params(format="json"))
        return self.html(name, data=data, json_url=json_url, **context)


def json_response(data: Any, status: int = 200) -> Response:
    # ensure_ascii=False: Chinese stays readable in the answer; default=str for dates
    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, status_code=status, media_type="application/json")


def param(request: Request, name: str) -> str:
    return check_text(request.query_params.get(name, ""), name)


def list_param(request: Request, name: str) -> list[str]:
    """A repeatable parameter (``tag=a&tag=b``), each value checked, empty ones dropped."""
    return [check_text(v, name) for v in request.query_params.getlist(name) if v]


def since_param(request: Request, default: str, now: datetime) -> tuple[str, datetime]:
    """The ``since`` parameter as typed (for the form) and as a moment."""
    typed = param(request, "since") or default
    return typed, parse_when(typed, now)


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = param(request, name)
    try:
        return min(high, max(low, int(raw))) if raw else default
    except ValueError:
        raise BadRequest(f"{name} is not a number") from None


def check_text(value: str, name: str) -> str:
    if len(value) > MAX_QUERY:
        raise BadRequest(f"{name} is {len(value):,} characters; keep it under {MAX_QUERY:,}")
    if "\x00" in value or any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise BadRequest(f"{name} holds control characters; remove them")
    return value.strip()


_MATCH = re.compile(r"\[([^\[\]]*)\]")


def marked(snippet: str) -> Markup:
    """A snippet's [matched] words as <mark>, everything else escaped."""
    return Markup(_MATCH.sub(r"<mark>\1</mark>", str(escape(snippet))))
