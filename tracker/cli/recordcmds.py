"""Commands about the official record: the lists kept, and what changed on them."""

from __future__ import annotations

import click

from tracker.cli.base import State, cli, utc_now
from tracker.cli.render import FORMATS, minute, print_plain_rows


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
                row[key] = minute(row[key])
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


@cli.command()
@click.argument("name", nargs=-1, required=True)
@click.option("--articles", "-n", default=10, show_default=True, type=click.IntRange(0, 1000))
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def entity(state: State, name: tuple[str, ...], articles: int, fmt: str) -> None:
    """Is NAME on a list, since when, under which citation; its history; the latest news.

    NAME is any of its names, in any script (SMIC, 中芯国际, Semiconductor Manufacturing
    International Corporation); a company in the vocabulary brings all its aliases.
    Legal suffixes (Co., Ltd., 有限公司) and punctuation do not matter.

    \b
    Examples:
      tracker entity smic
      tracker entity 中芯國際 --format json | jq '.entries[].citation'
    """
    import json

    from tracker.cli.base import maybe_config
    from tracker.record.names import name_keys
    from tracker.search.engine import search
    from tracker.store.record import entries_named, list_counts

    query = " ".join(name).strip()
    store = state.store(readonly=True)
    tagger = state.tagger(maybe_config(state))
    tags = [t for t in tagger.lookup(query) if t.startswith("company:")]
    names = [query]
    for e in tagger.entries:
        if e.tag_id in tags:
            names += [e.name, *e.aliases, *e.cased]
    keys = name_keys(names)
    if not keys:
        raise click.BadParameter(
            f"{query!r} is too short to match a name on its own; give more of the name",
            param_hint="NAME",
        )
    found = entries_named(store, keys)
    hits = []
    if articles:
        hits = [
            h.as_dict()
            for h in search(
                store,
                "" if tags else f'"{query}"',
                tags=tags[:1],
                sort="newest",
                limit=articles,
                expand=tagger.lookup,
            )
        ]
    if fmt == "json":
        out = {"query": query, "keys": keys, "tags": tags, "entries": found, "articles": hits}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    _print_entity(query, found, hits, bool(list_counts(store)))


def _print_entity(
    query: str, found: list[dict[str, object]], hits: list[dict[str, object]], have_lists: bool
) -> None:
    from rich.padding import Padding
    from rich.text import Text

    from tracker.cli.render import make_console
    from tracker.record import LIST_NAMES

    console = make_console()
    if not have_lists:
        console.print(
            "No lists kept yet: add a screening-list source (README) and run tracker fetch.",
            markup=False,
        )
    elif not found:
        console.print(f"{query}: on none of the lists kept, under any of its names.", markup=False)
    for e in found:
        head = Text()
        code = str(e["list_code"])
        head.append(f"{LIST_NAMES.get(code, code)} ({code})", style="bold")
        head.append(": ")
        head.append(str(e["name"]), style="bold")
        if e["removed_at"]:
            head.append(f"  removed {str(e['removed_at'])[:10]}", style="red")
        console.print(head)
        details = [
            ("since", e["start_date"]),
            ("citation", e["citation"]),
            ("licence", e["license_requirement"]),
            ("policy", e["license_policy"]),
            ("also known as", "; ".join(map(str, e["alt_names"]))),  # type: ignore[call-overload]
            ("address", e["addresses"]),
        ]
        for label, value in details:
            if value:
                line = Text(f"{label:>13}  ", style="dim")
                line.append(str(value))
                console.print(line)
        for ev in e["events"]:  # type: ignore[attr-defined]
            line = Text(f"{'':>13}  ", style="dim")
            line.append(f"{str(ev['at'])[:10]}  {ev['event']}  {ev['citation'] or ''}")
            console.print(line)
    if hits:
        console.print(Text("\nLatest articles", style="bold"))
        for h in hits:
            line = Text()
            line.append(f"{str(h['id'])[:8]}  ", style="dim")
            line.append(f"{str(h.get('published_at') or '')[:10]}  {h['source']}: ")
            line.append(str(h["title"] or ""))
            console.print(Padding(line, (0, 0, 0, 2)))
