"""The ``tracker`` command line: parse flags, call the library, print, map errors to exit codes.

Only this module knows about click. Exit codes: 0 ok; 1 error or a source failed; 2 bad usage or
a bad config file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracker import __version__
from tracker.config import (
    Config,
    default_config_path,
    default_config_text,
    default_db_path,
    load_config,
)
from tracker.demo import build_site, demo_settings, demo_sources, serve_site
from tracker.errors import ConfigError, TrackerError
from tracker.fetch import Fetcher, make_session
from tracker.pipeline import FetchReport, SourceReport, run_fetch, utc_now
from tracker.render import FORMATS, print_hits_table, render_rows
from tracker.retag import run_retag
from tracker.search import parse_when, search
from tracker.store import Store
from tracker.tageval import evaluate, load_cases
from tracker.tagging import Tagger
from tracker.vocabulary import KINDS, load_vocabulary

log = logging.getLogger("tracker")


class ConfigProblem(click.ClickException):
    exit_code = 2


class TrackerGroup(click.Group):
    """Shows a TrackerError as one "Error: ..." line (set TRACKER_RAISE_ERRORS=1 for a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            if os.environ.get("TRACKER_RAISE_ERRORS") == "1":
                raise
            if isinstance(exc, ConfigError):
                raise ConfigProblem(str(exc)) from exc
            raise click.ClickException(str(exc)) from exc


@dataclass
class State:
    db_path: Path
    config_path: Path
    quiet: bool

    def config(self) -> Config:
        return load_config(self.config_path)

    def store(self) -> Store:
        return Store.open(self.db_path)

    def tagger(self, config: Config | None = None) -> Tagger:
        vocab = config.settings.vocabulary if config else None
        return Tagger(load_vocabulary(Path(vocab).expanduser() if vocab else None))


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACKER_DB",
    help="SQLite database file [env TRACKER_DB; default: your data dir]",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACKER_CONFIG",
    help="tracker.toml to use [env TRACKER_CONFIG; default: your config dir]",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars or summaries.")
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(
    ctx: click.Context, db: Path | None, config_path: Path | None, verbose: int, quiet: bool
) -> None:
    """Track export-control news and official documents on chips, tools and materials.

    \b
    Examples:
      tracker demo                      # offline run over a bundled sample site
      tracker init                      # write a tracker.toml with real sources
      tracker fetch                     # pull every enabled source
      tracker search "H200 licence" --tag company:nvidia --since 30d
      tracker show 3f2a9c1e
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = State(db or default_db_path(), config_path or default_config_path(), quiet)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


# ---------------------------------------------------------------- init
@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.pass_obj
def init(state: State, force: bool) -> None:
    """Write a commented tracker.toml with real default sources.

    \b
    Example:
      tracker init && tracker fetch
      tracker --config ./tracker.toml init --force
    """
    path = state.config_path
    if path.exists() and not force:
        raise click.ClickException(f"{path} already exists; edit it, or pass --force to overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_config_text(), encoding="utf-8")
    click.echo(f"Wrote {path}. Edit it, then run: tracker fetch")


# ---------------------------------------------------------------- fetch
class RichProgress:
    """One bar per source on a terminal; otherwise one plain line per source on stderr."""

    def __init__(self, progress: Progress | None, quiet: bool = False) -> None:
        self.progress = progress
        self.quiet = quiet
        self.tasks: dict[str, Any] = {}

    def start(self, source: str, total: int) -> None:
        if self.progress is not None:
            self.tasks[source] = self.progress.add_task(source, total=total or None)

    def advance(self, source: str) -> None:
        if self.progress is not None:
            self.progress.advance(self.tasks[source])

    def finish(self, report: SourceReport) -> None:
        if self.progress is not None:
            task = self.tasks.get(report.name)
            if task is not None:
                total = self.progress.tasks[task].total or 1
                self.progress.update(task, total=total, completed=total)
        elif not self.quiet:
            if report.error:
                outcome = f"failed: {report.error}"
            elif report.not_modified:
                outcome = "not modified"
            else:
                outcome = (
                    f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged"
                )
            click.echo(f"{report.name}: {outcome}", err=True)


_BAR = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _run_with_progress(state: State, run: Any) -> FetchReport:
    console = _console(stderr=True)
    if state.quiet or not console.is_terminal:
        return run(RichProgress(None, quiet=state.quiet))  # type: ignore[no-any-return]
    with Progress(*_BAR, console=console, transient=False) as bar:
        return run(RichProgress(bar))  # type: ignore[no-any-return]


def _print_report(report: FetchReport) -> None:
    table = Table(title="Fetch summary", title_justify="left")
    for col in ("source", "new", "updated", "unchanged", "status"):
        table.add_column(col, justify="right" if col in ("new", "updated", "unchanged") else "left")
    for s in report.sources:
        if s.error:
            status = f"[red]failed: {s.error}[/red]"
        elif s.not_modified:
            status = "not modified (304)"
        else:
            notes = []
            if s.pages_failed:
                notes.append(f"{s.pages_failed} pages failed (feed summary kept)")
            if s.no_text:
                notes.append(f"{s.no_text} pages without main text (feed summary kept)")
            if s.warning:
                notes.append(f"malformed feed, entries kept: {s.warning[:60]}")
            status = "ok" + ("; " + "; ".join(notes) if notes else "")
        table.add_row(s.name, str(s.new), str(s.updated), str(s.unchanged), status)
    _console().print(table)


@cli.command()
@click.option(
    "--source",
    "-s",
    "only",
    multiple=True,
    metavar="NAME",
    help="Fetch only this source (repeatable).",
)
@click.option(
    "--all", "refetch", is_flag=True, help="Fetch article pages again even if already stored."
)
@click.pass_obj
def fetch(state: State, only: tuple[str, ...], refetch: bool) -> None:
    """Pull every enabled source, store new and updated articles, print a summary.

    Exits 1 when any source failed; the others are still stored, and each failure is
    recorded in the fetch_log table with its reason.

    \b
    Examples:
      tracker fetch
      tracker fetch --source bbc-zh-simp --source the-register
      tracker -q fetch   # for cron: errors only
    """
    config = state.config()
    sources = list(config.sources)
    if only:
        names = {s.name for s in sources}
        missing = [n for n in only if n not in names]
        if missing:
            raise click.BadParameter(
                f"no source named {missing[0]!r}; see 'tracker sources list'", param_hint="--source"
            )
        sources = [s for s in sources if s.name in only]
    if not any(s.enabled for s in sources):
        raise click.ClickException(f"no enabled sources in {config.path}; enable one and try again")
    store = state.store()
    tagger = state.tagger(config)
    fetcher = Fetcher(make_session(config.settings), config.settings)
    report = _run_with_progress(
        state, lambda p: run_fetch(store, fetcher, sources, tagger, refetch=refetch, progress=p)
    )
    if not state.quiet:
        _print_report(report)
    if report.failures:
        failed = ", ".join(s.name for s in report.failures)
        click.echo(f"Error: {len(report.failures)} source(s) failed: {failed}", err=True)
        raise SystemExit(1)


# ---------------------------------------------------------------- search and show
@cli.command(name="search")
@click.argument("query", nargs=-1)
@click.option(
    "--tag",
    "-t",
    "tags",
    multiple=True,
    metavar="KIND:SLUG",
    help="Only articles with this tag (repeatable; all must match).",
)
@click.option("--since", metavar="WHEN", help="Published on or after: 7d, 24h, 2w or a date.")
@click.option("--until", metavar="WHEN", help="Published on or before: 7d, 24h, 2w or a date.")
@click.option("--lang", metavar="LANG", help="en, zh (either script), zh-Hans or zh-Hant.")
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable)."
)
@click.option(
    "--relevant", is_flag=True, help="Only articles about export controls (relevance >= 0.5)."
)
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def search_cmd(
    state: State,
    query: tuple[str, ...],
    tags: tuple[str, ...],
    since: str | None,
    until: str | None,
    lang: str | None,
    sources: tuple[str, ...],
    relevant: bool,
    limit: int,
    fmt: str,
) -> None:
    """Search stored articles; with no QUERY, list the newest that match the filters.

    QUERY takes words (all must match), "exact phrases", OR, -excluded words and prefix*.
    Chinese works in either script: 英偉達 finds 英伟达.

    \b
    Examples:
      tracker search "H200 licence" --tag company:nvidia --since 30d
      tracker search 实体清单 --lang zh --format json | jq '.[].title'
      tracker search --tag policy:entity-list --since 7d --format csv > week.csv
      tracker search '"entity list" -russia' --format ndjson
      tracker search --relevant --since 24h      # today's on-topic articles
    """
    now = utc_now()
    store = state.store()
    known = {e.tag_id for e in state.tagger(_maybe_config(state)).entries}
    hits = search(
        store,
        " ".join(query),
        tags=tags,
        lang=lang,
        sources=sources,
        limit=limit,
        since=parse_when(since, now) if since else None,
        until=parse_when(until, now) if until else None,
        known_tags=known | _stored_tags(store),
        relevant=relevant,
    )
    rows = [h.as_dict() for h in hits]
    if fmt == "table":
        if not rows:
            click.echo("No articles match.", err=True)
            return
        print_hits_table(_console(), rows)
    elif rows or fmt == "json":
        click.echo(render_rows(rows, fmt))


def _maybe_config(state: State) -> Config | None:
    return state.config() if state.config_path.exists() else None


def _stored_tags(store: Store) -> set[str]:
    return {r["id"] for r in store.db.query("SELECT id FROM tags")}


@cli.command()
@click.argument("article_id")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def show(state: State, article_id: str, fmt: str) -> None:
    """Show one article: metadata, tags and clean text. ID may be a unique prefix.

    \b
    Examples:
      tracker show 3f2a9c1e
      tracker show 3f2a9c1e --format json | jq .tags
    """
    row = state.store().article(article_id)
    if row is None:
        raise click.ClickException(
            f"no article with id {article_id!r}; find ids with 'tracker search'"
        )
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    console = _console()
    console.print(f"[bold]{row['title']}[/bold]")
    for key in ("id", "url", "source", "published_at", "first_seen_at", "lang", "author"):
        if row.get(key):
            console.print(f"[dim]{key:>13}[/dim]  {row[key]}")
    tags = ", ".join(
        f"{t['kind']}:{t['slug']}"
        + (f"×{t['count']}" if t["count"] > 1 else "")
        + ("*" if t["in_title"] else "")
        for t in row["tags"]
    )
    console.print(f"[dim]{'tags':>13}[/dim]  {tags or '(none)'}  [dim](* = in title)[/dim]")
    if not row["extracted"]:
        console.print(f"[dim]{'':>13}  text is the feed's summary (the page was not read)[/dim]")
    console.print()
    console.print(row["text"] or row["summary"] or "(no text)")


# ---------------------------------------------------------------- sources
@cli.group()
def sources() -> None:
    """Inspect configured sources."""


@sources.command(name="list")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def sources_list(state: State, fmt: str) -> None:
    """List configured sources with their article counts and last error.

    \b
    Examples:
      tracker sources list
      tracker sources list --format json | jq '.[] | select(.last_error)'
    """
    config = state.config()
    stats = {r["name"]: r for r in state.store().source_rows()} if state.db_path.exists() else {}
    rows = []
    for s in config.sources:
        st = stats.get(s.name, {})
        rows.append(
            {
                "name": s.name,
                "kind": s.kind,
                "enabled": s.enabled,
                "url": s.url,
                "articles": st.get("articles", 0),
                "last_run": st.get("last_run"),
                "last_error": st.get("last_error"),
            }
        )
    _print_plain_rows(rows, fmt)


def _print_plain_rows(rows: Sequence[dict[str, Any]], fmt: str) -> None:
    if fmt != "table":
        click.echo(render_rows(rows, fmt))
        return
    if not rows:
        click.echo("(nothing)", err=True)
        return
    table = Table()
    for key in rows[0]:
        table.add_column(key, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    _console().print(table)


# ---------------------------------------------------------------- tags
@cli.group()
def tags() -> None:
    """The tagging vocabulary: companies, chips, materials, policy terms, agencies, people."""


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
    tagger = state.tagger(_maybe_config(state))
    counts: dict[str, int] = {}
    if state.db_path.exists():
        query = "SELECT tag_id, count(*) AS n FROM article_tags GROUP BY tag_id"
        counts = {r["tag_id"]: r["n"] for r in state.store().db.query(query)}
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
    _print_plain_rows(rows, fmt)


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
    store = state.store()
    tagger = state.tagger(_maybe_config(state))
    console = _console(stderr=True)
    if state.quiet or not console.is_terminal:
        report = run_retag(store, tagger, batch=batch)
    else:
        with Progress(*_BAR, console=console) as bar:
            task = bar.add_task("retag", total=store.count() or None)
            report = run_retag(
                store,
                tagger,
                batch=batch,
                progress=lambda done, _t: bar.update(task, completed=done),
            )
    if not state.quiet:
        click.echo(f"{report.articles} articles retagged, {report.changed} changed")


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
    report = evaluate(state.tagger(_maybe_config(state)), load_cases(directory))
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
    console = _console()
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
        for case_id, value in report.relevance_wrong:
            console.print(f"{'relevance':>9}  {case_id}  {value:.2f}", soft_wrap=True)
    if report.traps or report.overall.f1 < min_f1:
        raise SystemExit(1)


# ---------------------------------------------------------------- demo
@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Run the whole pipeline offline over a bundled sample site served from loopback.

    Fetches two RSS feeds, an Atom feed and a listing page (English, simplified and
    traditional Chinese; GB18030 and Big5 pages among them) into a demo database, then
    prints what it stored and two example searches. Needs no network.

    The demo database is demo.db beside your real database (or --db); it is
    recreated on each run and never touches your own data.

    \b
    Example:
      tracker demo
      tracker --db ~/.local/share/tracker/demo.db search 輝達 --format json
    """
    state: State = ctx.obj
    explicit_db = ctx.parent is not None and ctx.parent.params.get("db") is not None
    db_path = state.db_path if explicit_db else state.db_path.with_name("demo.db")
    if not explicit_db:
        for suffix in ("", "-wal", "-shm"):  # a fresh demo each run; never a user's own database
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = Store.open(db_path)
    settings = demo_settings()
    with serve_site(build_site) as base:
        sources = demo_sources(base)
        click.echo(
            f"Serving the sample site at {base}; fetching {len(sources)} sources ...", err=True
        )
        fetcher = Fetcher(make_session(settings), settings)
        tagger = state.tagger()
        report = _run_with_progress(
            state, lambda p: run_fetch(store, fetcher, sources, tagger, progress=p)
        )
    _print_report(report)
    console = _console()
    top = list(
        store.db.query(
            "SELECT tag_id, count(*) AS n FROM article_tags GROUP BY tag_id ORDER BY n DESC, tag_id LIMIT 12"
        )
    )
    console.print(f"\nStored {store.count()} articles in {db_path}", soft_wrap=True)
    console.print("Most common tags: " + ", ".join(f"{r['tag_id']} ({r['n']})" for r in top))
    for query in ("H20 licence", "实体清单"):
        console.print(f'\n[bold]$ tracker --db {db_path} search "{query}"[/bold]', soft_wrap=True)
        hits = search(store, query, limit=5)
        print_hits_table(console, [h.as_dict() for h in hits])
    console.print(
        f"\nTry it yourself: tracker --db {db_path} search 輝達 --format json", soft_wrap=True
    )
    if report.failures:
        raise SystemExit(1)
