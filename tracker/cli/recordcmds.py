"""Commands about the official record: the lists kept, and what changed on them."""

from __future__ import annotations

import click

from tracker.cli.base import State, cli, utc_now
from tracker.cli.render import FORMATS, print_plain_rows


@cli.group(invoke_without_command=True)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_context
def lists(ctx: click.Context, fmt: str) -> None:
    """The screening lists kept (a screening-list source): entries, removals, last update.

    \b
    Examples:
      tracker lists
      tracker lists changes --since 7d
      tracker lists changes --since 30d --format csv > list-changes.csv
    """
    from tracker.cli.tables import Column
    from tracker.record import LIST_NAMES
    from tracker.store.record import list_counts

    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    rows = [
        {
            "list": r["list_code"],
            "name": LIST_NAMES.get(r["list_code"], r["list_code"]),
            "entries": r["entries"],
            "removed": r["removed"],
            "last_snapshot": r["last_seen"],
            "last_change": r["last_change"],
        }
        for r in list_counts(state.store(readonly=True))
    ]
    if fmt == "table":
        for row in rows:
            for key in ("last_snapshot", "last_change"):
                row[key] = (row[key] or "")[:16].replace("T", " ")
    columns = [
        Column("list"),
        Column("name", fit="wrap", min_width=16, drop=2),
        Column("entries", justify="right"),
        Column("removed", justify="right", drop=3),
        Column("last_snapshot", header="last snapshot", drop=1),
        Column("last_change", header="last change"),
    ]
    print_plain_rows(
        rows, fmt, columns, empty="No lists yet: add a screening-list source and run tracker fetch."
    )


@lists.command(name="changes")
@click.option(
    "--since", default="7d", show_default=True, metavar="WHEN", help="7d, 24h, or a date."
)
@click.option("--limit", "-n", default=1000, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def lists_changes(state: State, since: str, limit: int, fmt: str) -> None:
    """List events: entries added to, revised on or removed from a list, newest first.

    A list's first snapshot is its baseline and makes no events.

    \b
    Examples:
      tracker lists changes --since 24h
      tracker lists changes --since 30d --format json | jq '.[] | select(.event == "added")'
    """
    from tracker.cli.tables import Column
    from tracker.search.query import parse_when
    from tracker.store.record import list_events

    rows = list_events(state.store(readonly=True), parse_when(since, utc_now()), limit)
    if fmt == "table":
        for row in rows:
            row["at"] = (row["at"] or "")[:10]
            row["changed"] = ", ".join(row["changed"])
    columns = [
        Column("at", header="date"),
        Column("event"),
        Column("list_code", header="list"),
        Column("name", fit="wrap", min_width=20),
        Column("citation", drop=1),
        Column("changed", fit="wrap", min_width=12, drop=2),
        Column("entry_id", header="entry", drop=3),
        Column("source", drop=4),
    ]
    print_plain_rows(rows, fmt, columns, empty="No list changes match.")
