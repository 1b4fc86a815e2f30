"""Commands about the official record: the lists kept, and what changed on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

    A list's first snapshot is its baseline and makes no events. An Entity List rule makes its
    events the day the Federal Register publishes it (document = its number); when the
    screening list catches up days later, that is a "confirmed" event, not a second addition.

    \b
    Examples:
      tracker lists changes --since 24h
      tracker lists changes --since 30d --format json | jq '.[] | select(.event == "added")'
    """
    from tracker.cli.tables import Column
    from tracker.search.query import parse_when
    from tracker.store.entities import event_links
    from tracker.store.record import list_events

    store = state.store(readonly=True)
    rows = list_events(store, parse_when(since, utc_now()), limit)
    event_links(store, rows)
    if fmt == "table":
        for row in rows:
            row["at"] = (row["at"] or "")[:10]
            row["changed"] = ", ".join(row["changed"])
            row["news"] = len(row["news"]) or ""
    columns = [
        Column("at", header="date"),
        Column("event"),
        Column("list_code", header="list"),
        Column("name", fit="wrap", min_width=16),
        # A notice number is 22 cells wide: wrapped inside, it would break in its figures.
        Column("citation", fit="wrap", min_width=22, drop=1),
        Column("document", drop=2),
        Column("changed", fit="wrap", min_width=12, drop=2),
        Column("news", justify="right", drop=3),
        Column("entity", drop=4),
        Column("entry_id", header="entry", drop=5),
        Column("source", drop=6),
    ]
    print_plain_rows(rows, fmt, columns, empty="No list changes match.")


@lists.command(name="rules")
@click.option(
    "--since", default="90d", show_default=True, metavar="WHEN", help="Read since: 90d, a date."
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def lists_rules(state: State, since: str, fmt: str) -> None:
    """Entity List rules and MOFCOM designations read: what each added, revised, removed.

    One that could not be understood says why (status not-understood); its document is stored
    and searchable as any other, and no entry is made up from it.

    \b
    Examples:
      tracker lists rules
      tracker lists rules --since 1y --format csv
    """
    from tracker.cli.tables import Column
    from tracker.search.query import parse_when
    from tracker.store.record import list_rules

    rows = list_rules(state.store(readonly=True), parse_when(since, utc_now()))
    columns = [
        Column("published"),
        Column("document_number", header="document"),
        Column("citation", drop=2),
        Column("added", justify="right"),
        Column("revised", justify="right"),
        Column("removed", justify="right"),
        Column("status", drop=1),
        Column("problem", fit="wrap", min_width=16, drop=3),
    ]
    print_plain_rows(rows, fmt, columns, empty="No Entity List rules read in that time.")


@cli.command()
@click.argument("name", nargs=-1, required=True)
@click.option(
    "--articles",
    "-n",
    default=10,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Latest articles shown, per language.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice([*FORMATS, "text"]),
    default="table",
    show_default=True,
    help="table (the page; also 'text'), json or ndjson (one entity a line), csv (one row per "
    "list entry).",
)
@click.pass_obj
def entity(state: State, name: tuple[str, ...], articles: int, fmt: str) -> None:
    """Is NAME on a list, since when, under which citation; its history; the latest news.

    NAME is an entity's id (as search's entity:ID filter takes it) or any of its names, in any
    script (SMIC, 中芯国际, Semiconductor Manufacturing International Corporation): names on the
    lists, the vocabulary's aliases, and aliases read from Entity List rules all lead to it.
    Legal suffixes (Co., Ltd., 有限公司) and punctuation do not matter.

    \b
    Examples:
      tracker entity smic
      tracker entity 中芯國際 --format json | jq '.entities[].entries[].citation'
      tracker entity hikvision --format csv > hikvision.csv
      tracker search 'entity:smic' --since 30d
    """
    import json

    from tracker.cli.base import maybe_config
    from tracker.errors import QueryError
    from tracker.record.lookup import look_up
    from tracker.store.record import list_counts

    query = " ".join(name).strip()
    store = state.store(readonly=True)
    try:
        out = look_up(store, state.tagger(maybe_config(state)), query, articles)
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    if fmt == "json":
        click.echo(json.dumps({"query": query, "entities": out}, ensure_ascii=False, indent=2))
    elif fmt == "ndjson":
        for ent in out:
            click.echo(json.dumps(ent, ensure_ascii=False))
    elif fmt == "csv":
        print_plain_rows(_entry_rows(out), "csv")
    else:
        _print_entities(query, out, bool(list_counts(store)))


def _entry_rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (entity, list entry); an entity on no list still has its row."""
    rows = []
    for ent in found:
        for e in ent["entries"] or [{}]:
            events = e.get("events") or []
            rows.append(
                {
                    "entity": ent["id"],
                    "entity_name": ent["name"],
                    "list": e.get("list_code", ""),
                    "entry_id": e.get("entry_id", ""),
                    "name": e.get("name", ""),
                    "since": e.get("start_date", ""),
                    "citation": e.get("citation", ""),
                    "removed_at": e.get("removed_at") or "",
                    "last_event": events[-1]["event"] if events else "",
                    "articles": len(ent["articles"]),
                }
            )
    return rows


def _print_entities(query: str, found: list[dict[str, Any]], have_lists: bool) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from tracker.cli.render import make_console
    from tracker.record import LIST_NAMES

    console = make_console()
    if not have_lists:
        console.print(
            "No lists kept yet: add a screening-list source (README) and run tracker fetch.",
            markup=False,
        )
    if not found:
        console.print(
            f"{query}: no entity of that name on the lists kept or in the vocabulary.",
            markup=False,
        )
    for n, ent in enumerate(found):
        if n:
            console.print()
        head = Text(str(ent["name"]), style="bold")
        head.append(f"  (entity:{ent['id']})", style="dim")
        console.print(head)
        if ent.get("parent"):
            console.print(Text(f"  part of entity:{ent['parent']}", style="dim"))
        if have_lists and not ent["entries"]:
            console.print("  on none of the lists kept, under any of its names.", markup=False)
        for e in ent["entries"]:
            line = Text("  ")
            code = str(e["list_code"])
            line.append(f"{LIST_NAMES.get(code, code)} ({code})", style="bold")
            line.append(": " + str(e["name"]))
            last = e["events"][-1] if e["events"] else None
            if e["removed_at"]:
                line.append(f"  removed {str(e['removed_at'])[:10]}", style="red")
            elif last is not None and last["event"] == "removed":
                # A rule removed it; the screening list has not caught up yet.
                line.append(f"  removed {str(last['at'])[:10]} by rule", style="red")
            console.print(line)
            details = [
                ("since", e["start_date"]),
                ("citation", e["citation"]),
                ("licence", e["license_requirement"]),
                ("policy", e["license_policy"]),
                ("also known as", "; ".join(map(str, e["alt_names"]))),
                ("address", e["addresses"]),
            ]
            for label, value in details:
                if value:
                    row = Text(f"  {label:>13}  ", style="dim")
                    row.append(str(value))
                    console.print(row)
            for ev in e["events"]:
                row = Text(f"  {'':>13}  ", style="dim")
                cite = ev["citation"] or ""
                doc = ev.get("document") or ""
                if doc and not doc.startswith(("MOFCOM-", "UEL-")):  # a notice's key repeats it
                    cite = f"{cite} (FR document {doc})".strip()
                row.append(f"{str(ev['at'])[:10]}  {ev['event']}  {cite}")
                console.print(row)
        if ent["articles"]:
            console.print(Text("  Latest articles", style="bold"))
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for a in ent["articles"]:
                title = Text(f"{a['source']}: ", style="dim")
                title.append(str(a["title"] or ""))
                grid.add_row(str(a["id"])[:8], str(a["at"] or "")[:10], title)
            console.print(Padding(grid, (0, 0, 0, 4)))


@cli.command(name="eval-entities")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--min-precision", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--min-recall", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def eval_entities(
    state: State, directory: Path, min_precision: float, min_recall: float, fmt: str
) -> None:
    """Score entity linking on labelled mentions: precision and recall per language.

    DIRECTORY holds lists.csv (a screening-list file) and TOML files of [[mention]] tables
    (lang, text, entity, also); see tests/data/entities/README.md. Exits 1 when a language
    is below --min-precision or --min-recall, listing what went wrong.

    \b
    Example:
      tracker eval-entities tests/data/entities --min-precision 0.98 --min-recall 0.9
    """
    from tracker.cli.base import maybe_config
    from tracker.cli.tables import Column
    from tracker.errors import ParseError
    from tracker.record.evaluate import Resolver, evaluate, load_mentions
    from tracker.record.linking import companies_of

    lists_file = directory / "lists.csv"
    if not lists_file.is_file():
        raise click.BadParameter(f"{directory} has no lists.csv", param_hint="DIRECTORY")
    tagger = state.tagger(maybe_config(state))
    try:
        mentions = load_mentions(directory)
        resolver = Resolver(
            lists_file,
            companies_of(tagger.entries),
            lambda text, lang: [h.tag_id for h in tagger.tag("", text, lang)],
        )
    except ParseError as exc:
        raise click.ClickException(str(exc)) from exc
    report = evaluate(mentions, resolver.resolve)
    scores = [*report.by_lang.items(), ("all", report.total())]
    counts = {**report.mentions, "all": sum(report.mentions.values())}
    rows = [
        {
            "lang": lang,
            "mentions": counts[lang],
            "precision": round(s.precision, 3),
            "recall": round(s.recall, 3),
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
        }
        for lang, s in scores
    ]
    columns = [Column(k, justify="left" if k == "lang" else "right") for k in rows[0]]
    print_plain_rows(rows, fmt, columns)
    if fmt == "table":
        for m, got in report.wrong:
            want = m.entity or "none"
            click.echo(f"  {m.id}: wanted {want}, linked {', '.join(got) or 'none'}: {m.text}")
    low = [
        lang
        for lang, s in report.by_lang.items()
        if s.precision < min_precision or s.recall < min_recall
    ]
    if low:
        raise click.ClickException(f"below the minimum in {', '.join(low)}")
