"""`tracker deadlines`: dates that matter from the official record, upcoming first."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from pathlib import Path

import click

from tracker.cli.base import State, cli, utc_now
from tracker.cli.render import FORMATS, print_plain_rows, say_empty

log = logging.getLogger("tracker.deadlines")


def day_of(value: str, now: datetime, ahead: bool) -> date:
    """``today``, a date, or a span (``90d``, ``2w``) from today: ahead for --until, back for
    --since.

    Raises:
        click.BadParameter: none of those.
    """
    from tracker.errors import QueryError
    from tracker.search.query import RELATIVE, parse_when

    value = value.strip().lower()
    if value == "today":
        return now.date()
    if ahead and RELATIVE.match(value):
        back = parse_when(value, now)  # the same span, read as a distance
        return (now + (now - back)).date()
    try:
        return parse_when(value, now).date()
    except QueryError as exc:
        raise click.BadParameter(str(exc).replace("7d, 24h", "today, 90d")) from exc


@cli.command()
@click.option("--since", default="today", show_default=True, metavar="WHEN",
              help="From: today, a date, or a span back (7d).")  # fmt: skip
@click.option("--until", "until_", default="90d", show_default=True, metavar="WHEN",
              help="Up to: a date, or a span ahead (90d, 1y).")  # fmt: skip
@click.option(
    "--format", "-f", "fmt", type=click.Choice([*FORMATS, "ics"]), default="table",
    show_default=True, help="ics: an RFC 5545 calendar (all-day events, stable UIDs).",
)  # fmt: skip
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout (an .ics for a calendar client).")  # fmt: skip
@click.pass_obj
def deadlines(state: State, since: str, until_: str, fmt: str, output: Path | None) -> None:
    """Deadlines from the official record, upcoming first: rules taking effect, comment
    periods closing, compliance dates, delays, suspensions ending.

    Read from the Federal Register's effective_on and comments_close_on, each rule's DATES
    text (corrections that delay a date included) and MOFCOM notices (暂停实施至...). Each
    deadline names its document and the stored article (tracker show ID).

    \b
    Examples:
      tracker deadlines
      tracker deadlines --since 2026-01-01 --until 1y --format csv
      tracker deadlines --until 1y --format ics -o deadlines.ics
    """
    from tracker.cli.tables import Column
    from tracker.record.deadlines import all_deadlines
    from tracker.record.ics import as_row, calendar
    from tracker.store.deadlines import dated_documents, suspensions

    if output and fmt != "ics":
        raise click.BadParameter(
            "--output is for --format ics; redirect the other formats", param_hint="--output"
        )
    now = utc_now()
    first, last = day_of(since, now, ahead=False), day_of(until_, now, ahead=True)
    if last < first:
        raise click.BadParameter(f"--until ({last}) is before --since ({first})")
    store = state.store(readonly=True)
    found, unread = all_deadlines(dated_documents(store), suspensions(store))
    for document, sentence in unread:
        log.info("%s: a date not understood: %r", document, sentence[:200])
    found = [d for d in found if first <= d.on <= last]
    if unread:
        click.echo(f"{len(unread)} date sentence(s) not understood; -v shows them", err=True)
    if fmt == "ics":
        text = calendar(found, now.astimezone(UTC))
        if output:
            output.write_text(text, encoding="utf-8", newline="")
            click.echo(f"Wrote {len(found)} deadline(s) to {output}", err=True)
        else:
            click.echo(text, nl=False)
        return
    rows = [as_row(d) for d in found]
    if fmt == "table":
        for row in rows:
            row["id"] = str(row["id"])[:8]
    if not rows:
        say_empty(f"No deadlines from {first} to {last}.")
        if fmt == "json":
            click.echo("[]")
        return
    columns = [
        Column("date"),
        Column("what"),
        Column("title", fit="wrap", min_width=20),
        Column("document", drop=1),
        Column("id", drop=2),
        Column("citation", fit="wrap", min_width=12, drop=3),
        Column("kind", drop=9),
        Column("action", drop=8),
        Column("story_id", header="story", drop=7),
        Column("url", drop=10),
        Column("uid", drop=11),
        Column("read_from", header="read from", drop=6),
    ]
    print_plain_rows(rows, fmt, columns)
