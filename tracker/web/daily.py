"""The day's pages: stories of the day, tag trends as a chart, and the digest as it would be
mailed."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tracker.web.common import (
    BadRequest,
    Pages,
    int_param,
    json_response,
    list_param,
    param,
    since_param,
)

# The mailed digest keeps its styles inline (mail clients drop style sheets); it still runs
# no script and loads nothing from elsewhere.
DIGEST_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"


def stories_page(pages: Pages, request: Request) -> Response:
    from tracker.store.stories import list_stories

    typed, since = since_param(request, "24h", pages.reader.now())
    lang = param(request, "lang")
    min_size = int_param(request, "min_size", 1, 1, 10_000)
    limit = int_param(request, "limit", 50, 1, 500)
    db = pages.store()
    rows = list_stories(db, since=since, min_size=min_size, limit=limit)
    for row in rows:
        group = row["members"]
        # The reader's language picks the headline: a Chinese member's, when asked for zh.
        shown = next((m for m in group if lang and (m["lang"] or "").startswith(lang)), None)
        row["shown"] = shown or next((m for m in group if m["is_lead"]), group[0] if group else {})
    return pages.answer(request, "stories.html", rows, since=typed, lang=lang, min_size=min_size)


def trends_page(pages: Pages, request: Request) -> Response:
    from tracker.search.trends import tag_counts, tag_series
    from tracker.store.tags import tag_ids
    from tracker.web.chart import line_chart

    now = pages.reader.now()
    typed, since = since_param(request, "30d", now)
    by = param(request, "by") or ("week" if (now - since).days > 60 else "day")
    if by not in ("day", "week"):
        raise BadRequest("by is day or week")
    db = pages.store()
    counts = tag_counts(db, since, now)
    names = {c.tag: c.name for c in counts}
    tags = list_param(request, "tag")
    if len(tags) > 7:
        raise BadRequest("at most 7 tags in one chart")
    known = {e.tag_id for e in pages.reader.tagger.entries} | tag_ids(db)
    for tag in tags:
        if tag not in known:
            raise BadRequest(f"unknown tag {tag!r}; /trends lists the tags to pick from")
    tags = tags or [c.tag for c in counts[:5]]
    series = tag_series(db, tags, since, now, by) if tags else {}
    data = {t: [{"period": p, "count": n} for p, n in points] for t, points in series.items()}
    return pages.answer(
        request,
        "trends.html",
        data,
        since=typed,
        by=by,
        tags=tags,
        names=names,
        chart=line_chart(series) if series else None,
        periods=[p for p, _ in next(iter(series.values()), [])],
        series=series,
        top=counts[:20],
    )


def digest_page(pages: Pages, request: Request) -> Response:
    from tracker.digest.send import Failed, prepare

    settings = pages.reader.digest
    to = param(request, "to")
    chosen = settings.subscriber(to) if to else settings.preview_subscriber()
    if chosen is None:
        raise BadRequest(f"{to} is not a subscriber in tracker.toml")
    tagger = pages.reader.tagger
    item = next(
        iter(
            prepare(
                pages.store(),
                settings,
                [chosen],
                now=pages.reader.now(),
                sender=pages.reader.sender,
                expand=tagger.lookup,
                covers=tagger.covers,
            )
        )
    )
    if isinstance(item, Failed):
        raise BadRequest(f"the digest for {item.email} cannot be built: {item.reason}")
    fmt = param(request, "format") or "html"
    if fmt == "json":
        return json_response({"subject": item.subject, **dataclasses.asdict(item.digest)})
    if fmt == "text":
        return Response(item.text, media_type="text/plain; charset=utf-8")
    if fmt != "html":
        raise BadRequest(f"unknown format {fmt!r}; this page answers html, text or json")
    return HTMLResponse(item.html, headers={"Content-Security-Policy": DIGEST_CSP})
