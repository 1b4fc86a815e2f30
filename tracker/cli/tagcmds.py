"""Commands about the vocabulary: tags list, retag, eval-tags."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli.base import State, cli, maybe_config, stored_tags, utc_now
from tracker.cli.render import FORMATS, make_console, print_plain_rows, render_rows
from tracker.cli.tables import Column
from tracker.tagging import KINDS


# ---------------------------------------------------------------- tags
@cli.group(invoke_without_command=True)
@click.option("--kind", "-k", type=click.Choice(KINDS), help="Only this kind.")
@click.option(
    "--since",
    default="7d",
    show_default=True,
    metavar="WHEN",
    help="The period: 7d, 24h, 2w or a date; compared with the period before it.",
)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_context
def tags(ctx: click.Context, kind: str | None, since: str, fmt: str) -> None:
    """Tag counts for a period, with the change against the period before it.

    Subcommands work on the vocabulary itself (tracker tags list).

    \b
    Examples:
      tracker tags --since 7d
      tracker tags --kind company --since 30d --format csv
    """
    from tracker.search.query import parse_when
    from tracker.search.trends import tag_counts

    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    now = utc_now()
    counts = tag_counts(state.store(readonly=True), parse_when(since, now), now, kind)
    rows = [c.as_dict() for c in counts]
    if fmt == "table":
        for row, c in zip(rows, counts, strict=True):
            row["change"] = f"+{c.change}" if c.change > 0 else str(c.change)
    columns = [
        Column("tag"),
        Column("name", fit="wrap", drop=2, min_width=14),
        Column("count", justify="right"),
        Column("previous", justify="right", drop=1),
        Column("change", justify="right"),
    ]
    print_plain_rows(rows, fmt, columns, empty="No tags match: no articles in that period.")


@cli.command()
@click.argument("tag_ids", nargs=-1, required=True, metavar="TAG...")
@click.option("--by", type=click.Choice(["day", "week"]), default="day", show_default=True)
@click.option("--since", default="90d", show_default=True, metavar="WHEN")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@click.pass_obj
def trends(state: State, tag_ids: tuple[str, ...], by: str, since: str, fmt: str) -> None:
    """Articles per day or week for each TAG, with a sparkline; json or csv to plot elsewhere.

    \b
    Examples:
      tracker trends company:nvidia policy:entity-list --by week
      tracker trends chip:h20 --since 30d --format csv > h20.csv
    """
    from tracker.search.query import parse_when
    from tracker.search.trends import sparkline, squeeze, tag_series

    now = utc_now()
    store = state.store(readonly=True)
    known = {e.tag_id for e in state.tagger(maybe_config(state)).entries} | stored_tags(store)
    for tag in tag_ids:
        if tag not in known:
            raise click.BadParameter(
                f"unknown tag {tag!r}; see 'tracker tags list'", param_hint="TAG"
            )
    series = tag_series(store, list(tag_ids), parse_when(since, now), now, by)
    if fmt == "json":
        click.echo(
            json.dumps(
                {t: [{"period": p, "count": n} for p, n in points] for t, points in series.items()},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    periods = [p for p, _ in next(iter(series.values()))]
    rows = [{"period": p, **{t: series[t][i][1] for t in tag_ids}} for i, p in enumerate(periods)]
    if fmt == "csv":
        click.echo(render_rows(rows, "csv"))
        return
    columns = [
        Column("period"),
        *(Column(t, justify="right", drop=i + 1) for i, t in enumerate(tag_ids)),
    ]
    console = make_console()
    print_plain_rows(rows, "table", columns)  # every period, zeros too, as json and csv give them
    label = max(len(t) for t in tag_ids)
    room = max(10, console.width - label - 2 - len("  total 99999"))
    for tag in tag_ids:
        values, starts, run = squeeze([n for _, n in series[tag]], periods, room)
        console.print(f"{tag:>{label}}  {sparkline(values)}  total {sum(values)}", markup=False)
    axis = starts[0]
    if len(values) >= 2 * len(axis) + 2:  # the last bar's first date under the last bar
        axis += starts[-1].rjust(len(values) - len(axis))
    console.print(f"{'':>{label}}  {axis}", style="dim", markup=False)
    if run > 1:
        console.print(f"{'':>{label}}  one bar = {run} {by}s", style="dim", markup=False)


@tags.command(name="list")
@click.option("--kind", "-k", type=click.Choice(KINDS), help="Only this kind.")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def tags_list(state: State, kind: str | None, fmt: str) -> None:
    """List the vocabulary (with your own file from [settings] vocabulary) and article counts.

    \b
    Examples:
      tracker tags list --kind company
      tracker tags list --format json | jq -r '.[] | select(.articles > 0) | .tag'
    """
    from tracker.store.tags import article_counts

    tagger = state.tagger(maybe_config(state))
    counts: dict[str, int] = {}
    if state.db_path.exists():
        counts = article_counts(state.store(readonly=True))
    rows = [
        {
            "tag": e.tag_id,
            "name": e.name,
            "aliases": "; ".join(e.aliases + e.cased + tuple(c.alias for c in e.context))
            or "(patterns)",
            "articles": counts.get(e.tag_id, 0),
        }
        for e in sorted(tagger.entries, key=lambda e: (KINDS.index(e.kind), e.slug))
        if kind is None or e.kind == kind
    ]
    columns = [
        Column("tag"),
        Column("name", fit="wrap", drop=2, min_width=14),
        Column("aliases", fit="wrap", drop=3, min_width=20),
        Column("articles", justify="right"),
    ]
    print_plain_rows(rows, fmt, columns, empty="No tags match.")


@cli.command()
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.pass_obj
def retag(state: State, batch: int) -> None:
    """Re-apply the vocabulary to every stored article (after editing it, or upgrading).

    Runs in batches with a progress bar; running it twice changes nothing.

    \b
    Example:
      tracker retag && tracker tags list --kind policy
    """
    from rich.progress import Progress

    from tracker.cli.progress import BAR
    from tracker.tagging.retag import run_retag

    store = state.store()
    tagger = state.tagger(maybe_config(state))
    console = make_console(stderr=True)
    if state.quiet or not console.is_terminal:
        report = run_retag(store, tagger, batch=batch)
    else:
        with Progress(*BAR, console=console) as bar:
            task = bar.add_task("retag", total=store.count() or None)
            report = run_retag(
                store,
                tagger,
                batch=batch,
                progress=lambda done, _t: bar.update(task, completed=done),
            )
    if not state.quiet:
        if not report.articles:
            click.echo("No articles stored: nothing to retag.")
        elif report.changed:
            click.echo(
                f"Retagged {report.articles} articles: {report.changed} got new tags or relevance."
            )
        else:
            click.echo(
                f"Checked {report.articles} articles: all already match the vocabulary; "
                "nothing changed."
            )


@cli.command(name="eval-tags")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--min-f1",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Exit 1 when overall F1 is below this.",
)
@click.pass_obj
def eval_tags(state: State, directory: Path, min_f1: float) -> None:
    """Score the tagger on labelled cases: precision, recall, F1 per kind; misses; false tags.

    DIRECTORY holds TOML files of [[case]] tables (id, title, text, tags, traps, relevant).
    Exits 1 when a trap tag is emitted or F1 is below --min-f1.

    \b
    Example:
      tracker eval-tags tests/data/tagging --min-f1 0.97
    """
    from rich.table import Table

    from tracker.tagging.evaluate import evaluate, load_cases
    from tracker.tagging.tagger import RELEVANT

    report = evaluate(state.tagger(maybe_config(state)), load_cases(directory))
    table = Table(title=f"{report.cases} cases", title_justify="left")
    for col in ("kind", "precision", "recall", "F1", "tp", "fp", "fn"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for name, sc in [*sorted(report.by_kind.items()), ("overall", report.overall)]:
        table.add_row(
            name,
            f"{sc.precision:.3f}",
            f"{sc.recall:.3f}",
            f"{sc.f1:.3f}",
            str(sc.tp),
            str(sc.fp),
            str(sc.fn),
            style="bold" if name == "overall" else None,
        )
    console = make_console()
    console.print(table)
    for label, items in (
        ("missed", report.misses),
        ("false tag", report.false_tags),
        ("TRAP", report.traps),
    ):
        for case_id, tag in items:
            console.print(f"{label:>9}  {case_id}  {tag}", soft_wrap=True)
    if report.relevance_cases:
        console.print(
            f"relevance right on {report.relevance_right} of {report.relevance_cases} cases"
        )
        for case_id, wanted, value in report.relevance_wrong:
            expected = f"expected relevant (>= {RELEVANT})" if wanted else f"expected < {RELEVANT}"
            console.print(
                f"{'relevance':>9}  {case_id}  {expected}, got {value:.2f}",
                soft_wrap=True,
                markup=False,
            )
    if report.traps or report.overall.f1 < min_f1:
        raise SystemExit(1)
