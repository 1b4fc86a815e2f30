"""Commands about stories: list them, rebuild them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.base import State, cli, maybe_config, utc_now
from tracker.cli.render import FORMATS, make_console, print_plain_rows, say_empty

if TYPE_CHECKING:
    from rich.console import Console

    from tracker.stories.place import PlaceReport


@cli.group(invoke_without_command=True)
@click.option(
    "--since",
    default="7d",
    show_default=True,
    metavar="WHEN",
    help="Stories with an article on or after: 7d, 24h, 2w or a date.",
)
@click.option(
    "--min-size",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Only stories carried by at least this many articles.",
)
@click.option("--limit", "-n", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_context
def stories(ctx: click.Context, since: str, min_size: int, limit: int, fmt: str) -> None:
    """Stories: one event's copies, rewrites and translations, largest first.

    Each row is a story with its lead (the official document when there is one, else
    the earliest full article), its size, sources, languages and tags. 'tracker show
    ID' lists a story's members and why each joined.

    \b
    Examples:
      tracker stories --since 24h
      tracker stories --min-size 3 --format json | jq '.[].title'
      tracker stories rebuild          # after changing [stories] in tracker.toml
    """
    from tracker.search.query import parse_when
    from tracker.store.stories import list_stories

    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    rows = list_stories(
        state.store(readonly=True),
        since=parse_when(since, utc_now()),
        min_size=min_size,
        limit=limit,
    )
    out = [
        {
            "story_id": r["id"],
            "size": r["size"],
            "lead_id": r["lead_id"],
            "title": r["title"],
            "first_at": r["first_at"],
            "last_at": r["last_at"],
            "sources": r["sources"],
            "languages": r["languages"],
            "tags": r["tags"],
            "url": r["url"],
        }
        for r in rows
    ]
    if fmt != "table":
        print_plain_rows(out, fmt, empty="No stories match.")
        return
    if not out:
        say_empty("No stories match.")
        return
    print_stories_table(make_console(), out)


def print_stories_table(console: Console, rows: list[dict[str, Any]]) -> None:
    """Stories sized to the terminal: at 80 columns the tags go under the sources."""
    from rich.text import Text

    from tracker.cli.render import tag_line
    from tracker.cli.tables import WIDE, Column, print_table

    wide = console.width >= WIDE
    table_rows = []
    for r in rows:
        body = Text()
        body.append(r["title"] or "(no title)", style="bold")
        body.append(f"\n{r['lead_id'][:8]}", style="dim")
        body.append("  " + ", ".join(r["sources"]))
        body.append(f"  ({' '.join(r['languages'])})", style="dim")
        tags = tag_line(r["tags"], 6 if wide else 4)
        if not wide and tags:
            body.append("\n" + tags, style="cyan")
        table_rows.append(
            {
                "story": r["story_id"],
                "size": r["size"],
                "last": (r["last_at"] or "")[:10],
                "title": body,
                "tags": Text(tags.replace(" ", "\n"), style="cyan"),
            }
        )
    columns = [
        Column("story", justify="right"),
        Column("size", justify="right"),
        Column("last"),
        Column("title", header="lead title / sources", fit="wrap", min_width=30),
    ]
    if wide:
        columns.append(Column("tags", drop=1))
    print_table(console, table_rows, columns, lines=True)


def _with_bar(
    state: State, label: str, total: int, run: Callable[[Any], PlaceReport]
) -> PlaceReport:
    from rich.progress import Progress

    from tracker.cli.progress import BAR

    console = make_console(stderr=True)
    if state.quiet or not console.is_terminal:
        return run(None)
    with Progress(*BAR, console=console) as bar:
        task = bar.add_task(label, total=total or None)
        return run(lambda done, _t: bar.update(task, completed=done))


@stories.command(name="rebuild")
@click.pass_obj
def stories_rebuild(state: State) -> None:
    """Re-place every stored article into stories, with the current [stories] thresholds.

    Runs in memory, then replaces the stored stories in one transaction: an interrupted
    rebuild leaves the old stories in place. Story ids change.

    \b
    Example:
      tracker stories rebuild && tracker stories --since 30d
    """
    from tracker.config.stories import StoryRules
    from tracker.stories.rebuild import rebuild

    store = state.store()
    config = maybe_config(state)
    rules = config.stories if config else StoryRules()
    report = _with_bar(
        state,
        "stories",
        store.count(),
        lambda p: rebuild(store, rules, now=utc_now(), progress=p),
    )
    if not state.quiet:
        click.echo(_summary(report))


@stories.command(name="update")
@click.pass_obj
def stories_update(state: State) -> None:
    """Place articles not yet in a story (fetch does this itself after every run).

    \b
    Example:
      tracker stories update
    """
    from tracker.config.stories import StoryRules
    from tracker.stories.place import place_pending

    store = state.store()
    config = maybe_config(state)
    rules = config.stories if config else StoryRules()
    report = place_pending(store, rules, now=utc_now())
    if not state.quiet:
        click.echo(_summary(report))


def _summary(report: PlaceReport) -> str:
    why = ", ".join(f"{k} {v}" for k, v in sorted(report.reasons.items()))
    stories_made = report.placed - report.joined
    return (
        f"{report.placed} articles placed: {stories_made} stories started, "
        f"{report.joined} joined one"
        + (f" ({why})" if why else "")
        + (f"; {report.merged} stories merged" if report.merged else "")
    )
