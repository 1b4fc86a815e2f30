"""Commands about stories: list them, rebuild them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.base import State, cli, maybe_config, utc_now
from tracker.cli.render import FORMATS, make_console, render_rows

if TYPE_CHECKING:
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
    from rich.markup import escape
    from rich.table import Table

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
        if out or fmt == "json":
            click.echo(render_rows(out, fmt))
        return
    if not out:
        click.echo("No stories in that period.", err=True)
        return
    table = Table(show_lines=True, expand=True)
    table.add_column("story", justify="right", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("last", no_wrap=True, min_width=10, max_width=10)
    table.add_column("lead title / sources", ratio=5, overflow="fold")
    table.add_column("tags", ratio=2, overflow="ellipsis", no_wrap=True, style="cyan")
    for r in out:
        tags = "\n".join(r["tags"][:5]) + (
            f"\n+{len(r['tags']) - 5} more" if len(r["tags"]) > 5 else ""
        )
        table.add_row(
            str(r["story_id"]),
            str(r["size"]),
            (r["last_at"] or "")[:10],
            f"[bold]{escape(r['title'] or '')}[/bold]\n[dim]{r['lead_id'][:8]}[/dim]  "
            f"{escape(', '.join(r['sources']))}  [dim]({' '.join(r['languages'])})[/dim]",
            tags,
        )
    make_console().print(table)


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
