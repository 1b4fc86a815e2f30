"""``tracker serve``'s application: search, article pages and their JSON and Atom forms.

Starlette with the Jinja2 templates the digest already uses: each page is a view over
functions the command line calls (:mod:`tracker.search.engine`, :mod:`tracker.store`), so a
shared URL shows what ``tracker search`` would. Every connection is read-only; every response
carries a Content-Security-Policy that allows no inline script, and every stored string is
escaped by the templates' autoescape.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tracker.errors import QueryError
from tracker.store import Store
from tracker.tagging.tagger import Tagger

MAX_QUERY = 1_000  # characters: a longer query is a mistake or an attack, not a search
MAX_LIMIT = 200
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_ID = re.compile(r"[0-9a-f]{4,64}")


@dataclass(frozen=True)
class Reader:
    """What the pages read with: the store file (opened read-only, one connection per
    thread), the tagger (for the query's company and policy words) and the clock."""

    db_path: Path
    tagger: Tagger
    now: Callable[[], datetime]


class BadRequest(Exception):
    """A request the reader cannot answer: shown as a 400 page with the one-line reason."""


def create_app(reader: Reader) -> Starlette:
    env = Environment(
        loader=PackageLoader("tracker.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["marked"] = _marked
    local = threading.local()

    def store() -> Store:
        opened = getattr(local, "store", None)
        if opened is None:
            opened = local.store = Store.open(reader.db_path, readonly=True)
        return opened

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    def search_page(request: Request) -> Response:
        from tracker.search.engine import parse_when, search
        from tracker.search.feedout import feed

        q = _param(request, "q")
        fmt = _param(request, "format") or "html"
        if fmt not in ("html", "json", "atom"):
            raise BadRequest(f"unknown format {fmt!r}; use html, json or atom")
        lang = _param(request, "lang") or None
        since = _param(request, "since") or None
        relevant = _param(request, "relevant") in ("1", "on", "true")
        tags = [t for t in request.query_params.getlist("tag") if t]
        for tag in tags:
            _check_text(tag, "tag")
        try:
            limit = min(MAX_LIMIT, max(1, int(_param(request, "limit") or 20)))
        except ValueError:
            raise BadRequest("limit is not a number") from None
        now = reader.now()
        tagger = reader.tagger
        hits = search(
            store(),
            q,
            tags=tags,
            lang=lang,
            since=parse_when(since, now) if since else None,
            limit=limit,
            known_tags={e.tag_id for e in tagger.entries},
            relevant=relevant,
            expand=tagger.lookup,
            covers=tagger.covers,
        )
        rows = [h.as_dict() for h in hits]
        if fmt == "json":
            return JSONResponse(rows)
        if fmt == "atom":
            return Response(feed(rows, "atom", q, now), media_type="application/atom+xml")
        atom = request.url.include_query_params(format="atom")
        return page(
            "search.html",
            q=q,
            lang=lang or "",
            since=since or "",
            relevant=relevant,
            rows=rows,
            atom=str(atom),
            json_url=str(request.url.include_query_params(format="json")),
        )

    def article_page(request: Request) -> Response:
        from tracker.store.entities import entities_of
        from tracker.store.stories import story_members

        article_id = request.path_params["article_id"]
        if not _ID.fullmatch(article_id):
            raise BadRequest("an article id is hex digits (4 or more)")
        db = store()
        row = db.article(article_id)
        if row is None:
            return page("error.html", 404, message=f"no article with id {article_id}")
        if row.get("story_id") is not None:
            row["story"] = story_members(db, [row["story_id"]]).get(row["story_id"], [])
        row["entities"] = entities_of(db, [row["id"]])[row["id"]]
        if _param(request, "format") == "json":
            return Response(json.dumps(row, ensure_ascii=False), media_type="application/json")
        return page("article.html", a=row)

    async def bad_request(request: Request, exc: Exception) -> Response:
        return page("error.html", 400, message=str(exc))

    return Starlette(
        routes=[
            Route("/", search_page),
            Route("/search", search_page),
            Route("/article/{article_id}", article_page),
            Mount("/static", StaticFiles(packages=[("tracker.web", "static")]), name="static"),
        ],
        middleware=[Middleware(_Headers)],
        exception_handlers={BadRequest: bad_request, QueryError: bad_request},
    )


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def _param(request: Request, name: str) -> str:
    return _check_text(request.query_params.get(name, ""), name)


def _check_text(value: str, name: str) -> str:
    if len(value) > MAX_QUERY:
        raise BadRequest(f"{name} is {len(value):,} characters; keep it under {MAX_QUERY:,}")
    if "\x00" in value or any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise BadRequest(f"{name} holds control characters; remove them")
    return value.strip()


def _marked(snippet: str) -> Markup:
    """A snippet's [matched] words as <mark>, everything else escaped."""
    text = str(escape(snippet))
    return Markup(re.sub(r"\[([^\[\]]*)\]", r"<mark>\1</mark>", text))


__all__ = ["BadRequest", "Reader", "create_app"]
