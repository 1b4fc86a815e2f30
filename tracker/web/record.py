"""The official record's pages: an entity, the lists' changes, and deadlines (with their
calendar), each the same reading as ``tracker entity``, ``lists changes`` and ``deadlines``."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from starlette.requests import Request
from starlette.responses import Response

from tracker.web.common import BadRequest, Pages, check_text, int_param, param, since_param


def entity_page(pages: Pages, request: Request) -> Response:
    from tracker.record import LIST_NAMES
    from tracker.record.lookup import look_up
    from tracker.store.record import list_counts

    name = check_text(request.path_params["name"], "name")
    found = look_up(pages.store(), pages.reader.tagger, name, 5)
    data = {"query": name, "entities": found}
    return pages.answer(
        request,
        "entity.html",
        data,
        q=name,
        have_lists=bool(list_counts(pages.store())),
        list_names=LIST_NAMES,
    )


def entity_form(pages: Pages, request: Request) -> Response:
    """The lists page's look-up form (``/entity?name=...``): on to the entity's own URL, so the
    link shared is the short one."""
    from urllib.parse import quote

    from starlette.responses import RedirectResponse

    name = param(request, "name")
    if not name:
        raise BadRequest("give a name to look up: /entity?name=SMIC")
    return RedirectResponse(f"/entity/{quote(name, safe='')}", status_code=303)


def changes_page(pages: Pages, request: Request) -> Response:
    from tracker.record import LIST_NAMES
    from tracker.store.entities import event_links
    from tracker.store.record import list_counts, list_events

    typed, since = since_param(request, "30d", pages.reader.now())
    limit = int_param(request, "limit", 200, 1, 2000)
    db = pages.store()
    rows = list_events(db, since, limit)
    event_links(db, rows)
    return pages.answer(
        request,
        "changes.html",
        rows,
        since=typed,
        counts=list_counts(db),
        list_names=LIST_NAMES,
    )


def deadlines_page(pages: Pages, request: Request) -> Response:
    from tracker.record.deadlines import all_deadlines
    from tracker.record.ics import as_row, calendar
    from tracker.store.deadlines import dated_documents, suspensions

    now = pages.reader.now()
    today = now.astimezone(UTC).date()
    first = _day(param(request, "from"), today - timedelta(days=7), "from")
    last = _day(param(request, "until"), today + timedelta(days=365), "until")
    if last < first:
        raise BadRequest(f"until ({last}) is before from ({first})")
    db = pages.store()
    found, _ = all_deadlines(dated_documents(db), suspensions(db))
    found = [d for d in found if first <= d.on <= last]
    if param(request, "format") == "ics":
        return Response(
            calendar(found, now.astimezone(UTC)),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="deadlines.ics"'},
        )
    rows = [{**as_row(d), "lang": d.lang, "past": d.on < today} for d in found]
    # upcoming first, soonest first; then the week just past, latest first
    rows = [r for r in rows if not r["past"]] + [r for r in reversed(rows) if r["past"]]
    ics = str(request.url.include_query_params(format="ics"))
    return pages.answer(
        request, "deadlines.html", rows, first=first, last=last, ics=ics, today=today
    )


def _day(value: str, default: date, name: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is not a date like 2026-12-31") from None
