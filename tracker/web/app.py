"""``tracker serve``'s application: Starlette routes over the views in this package.

Each page is a view over functions the command line calls, so a shared URL shows what the
matching command prints, and answers JSON at the same URL with ``?format=json``. Every
connection is read-only; every response carries a Content-Security-Policy that allows no
inline script, and every stored string is escaped by the templates' autoescape.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.errors import QueryError
from tracker.web import daily, reading, record
from tracker.web.common import BadRequest, Pages, Reader

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
View = Callable[[Pages, Request], Response]
# Pages run in worker threads, each with its own read-only connection. SQLite releases the GIL
# while it searches, so a few threads let a quick article page pass a slow search and use a
# second core; more only add connections (and their page caches: memory that grows with the
# clients) without adding speed (benchmarks/serve.py: 4 against 1 and 8, docs/benchmarks.md).
THREADS = 4
# An article page is one row read by its key (about a millisecond); it gets threads of its own
# so that, when searches queue up, a reader opening an article does not wait behind them.
QUICK_THREADS = 2


def create_app(reader: Reader, threads: int = THREADS) -> Starlette:
    pages = Pages(reader)
    limiters: dict[str, anyio.CapacityLimiter] = {}

    def route(path: str, view: View, pool: str = "pages") -> Route:
        async def endpoint(request: Request) -> Response:
            return await anyio.to_thread.run_sync(view, pages, request, limiter=limiters[pool])

        return Route(path, endpoint)

    async def bad_request(request: Request, exc: Exception) -> Response:
        if request.query_params.get("format") == "json":
            from tracker.web.common import json_response

            return json_response({"error": str(exc)}, 400)
        return pages.html("error.html", 400, message=str(exc))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limiters["pages"] = anyio.CapacityLimiter(threads)
        limiters["quick"] = anyio.CapacityLimiter(QUICK_THREADS)
        yield

    return Starlette(
        lifespan=lifespan,
        routes=[
            route("/", reading.search_page),
            route("/search", reading.search_page),
            route("/article/{article_id}", reading.article_page, "quick"),
            route("/stories", daily.stories_page),
            route("/trends", daily.trends_page),
            route("/digest", daily.digest_page),
            route("/entity", record.entity_form),
            route("/entity/{name}", record.entity_page),
            route("/lists", record.changes_page),
            route("/deadlines", record.deadlines_page),
            Mount("/static", StaticFiles(packages=[("tracker.web", "static")]), name="static"),
        ],
        middleware=[Middleware(_Headers)],
        exception_handlers={BadRequest: bad_request, QueryError: bad_request},
    )


class _Headers:
    """Security headers on every response; plain ASGI (Starlette's BaseHTTPMiddleware costs a
    task and a queue per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A page may set its own policy (the mailed digest's inline styles).
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, with_headers)


__all__ = ["BadRequest", "Reader", "create_app"]
