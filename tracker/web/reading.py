"""The search page (HTML, JSON and Atom at one URL) and the article page."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from tracker.web.common import BadRequest, Pages, int_param, list_param, param

MAX_LIMIT = 200
_ID = re.compile(r"[0-9a-f]{4,64}")


def search_page(pages: Pages, request: Request) -> Response:
    from tracker.search.engine import parse_when, search
    from tracker.search.feedout import feed

    q = param(request, "q")
    fmt = param(request, "format") or "html"
    if fmt not in ("html", "json", "atom"):
        raise BadRequest(f"unknown format {fmt!r}; use html, json or atom")
    lang = param(request, "lang") or None
    since = param(request, "since") or None
    relevant = param(request, "relevant") in ("1", "on", "true")
    tags = list_param(request, "tag")
    limit = int_param(request, "limit", 20, 1, MAX_LIMIT)
    now = pages.reader.now()
    tagger = pages.reader.tagger
    hits = search(
        pages.store(),
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
    if fmt == "atom":
        return Response(feed(rows, "atom", q, now), media_type="application/atom+xml")
    atom = str(request.url.include_query_params(format="atom"))
    return pages.answer(
        request,
        "search.html",
        rows,
        q=q,
        lang=lang or "",
        since=since or "",
        relevant=relevant,
        tags=tags,
        atom=atom,
    )


def article_page(pages: Pages, request: Request) -> Response:
    from tracker.store.entities import entities_of
    from tracker.store.stories import story_members

    article_id = request.path_params["article_id"]
    if not _ID.fullmatch(article_id):
        raise BadRequest("an article id is hex digits (4 or more)")
    db = pages.store()
    row = db.article(article_id)
    if row is None:
        return pages.html("error.html", 404, message=f"no article with id {article_id}")
    if row.get("story_id") is not None:
        row["story"] = story_members(db, [row["story_id"]]).get(row["story_id"], [])
    row["entities"] = entities_of(db, [row["id"]])[row["id"]]
    return pages.answer(request, "article.html", row, a=row)
