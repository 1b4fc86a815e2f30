"""The ``tracker`` group, its global options, shared state and output helpers.

The CLI is a package rather than the one ``cli.py`` of the style guide because it outgrew 400 lines;
it is still the only place that imports click. Exit codes: 0 ok; 1 error or a source failed;
2 bad usage or a bad config file.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracker import __version__
from tracker.cli.render import render_rows
from tracker.config.load import Config, default_config_path, default_db_path, load_config
from tracker.errors import ConfigError, TrackerError
from tracker.ingest.pipeline import FetchReport, SourceReport
from tracker.store import Store, explain_db_error
from tracker.store.tags import tag_ids
from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import load_vocabulary

log = logging.getLogger("tracker")


class ConfigProblem(click.ClickException):
    exit_code = 2


class TrackerGroup(click.Group):
    """Shows a TrackerError as one "Error: ..." line (set TRACKER_RAISE_ERRORS=1 for a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (TrackerError, sqlite3.Error, OSError) as exc:
            if os.environ.get("TRACKER_RAISE_ERRORS") == "1" or isinstance(exc, BrokenPipeError):
                raise
            if isinstance(exc, ConfigError):
                raise ConfigProblem(str(exc)) from exc
            if isinstance(exc, sqlite3.Error):
                state = ctx.obj if isinstance(ctx.obj, State) else None
                where = state.db_path if state else "database"
                raise click.ClickException(explain_db_error(where, exc)) from exc
            if isinstance(exc, OSError):
                raise click.ClickException(_os_error(exc)) from exc
            raise click.ClickException(str(exc)) from exc


def _os_error(exc: OSError) -> str:
    """A file-system failure in one line: what, where, and for a full disk what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where}; nothing stored was lost. Free space and run again"
    return f"{exc.strerror or exc}{where}"


def busy_timeout() -> float:
    """Seconds a write waits for another process's (``TRACKER_BUSY_TIMEOUT``, default 10)."""
    raw = os.environ.get("TRACKER_BUSY_TIMEOUT", "")
    try:
        value = float(raw) if raw else 10.0
    except ValueError:
        raise ConfigError(
            f"TRACKER_BUSY_TIMEOUT must be a number of seconds, not {raw!r}"
        ) from None
    if not 0 <= value <= 3600:
        raise ConfigError("TRACKER_BUSY_TIMEOUT must be between 0 and 3600 seconds")
    return value


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM ends a run as Ctrl-C does: sources stop between articles, batches stay stored."""
    raise KeyboardInterrupt


@dataclass
class State:
    db_path: Path
    config_path: Path
    quiet: bool

    def config(self) -> Config:
        return load_config(self.config_path)

    def store(self, *, readonly: bool = False) -> Store:
        """The store; ``readonly`` for commands that only read (the file must exist)."""
        return Store.open(self.db_path, readonly=readonly, busy_timeout=busy_timeout())

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
      tracker stories --since 24h       # today's stories, copies grouped
      tracker digest                    # preview the daily digest
      tracker run                       # cron: fetch, then mail the digest
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    ctx.obj = State(db or default_db_path(), config_path or default_config_path(), quiet)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


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

    def placing(self, done: int, total: int) -> None:
        """Stories placement after the sources: a bar, or a line per 5,000 articles."""
        if self.progress is not None:
            if "\0stories" not in self.tasks:
                self.tasks["\0stories"] = self.progress.add_task("placing in stories", total=total)
            self.progress.update(self.tasks["\0stories"], completed=done)
        elif not self.quiet and total >= 5000 and (done % 5000 < 200 or done == total):
            click.echo(f"stories: {done}/{total} articles placed", err=True)

    def finish(self, report: SourceReport) -> None:
        if self.progress is not None:
            task = self.tasks.get(report.name)
            if task is not None:
                total = self.progress.tasks[task].total or 1
                self.progress.update(task, total=total, completed=total)
        elif not self.quiet:
            if report.skipped:
                outcome = f"skipped: {report.skipped}"
            elif report.error:
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
        if s.skipped:
            status = f"[yellow]skipped: {s.skipped}[/yellow]"
        elif s.error:
            status = f"[red]failed: {s.error}[/red]"
        elif s.not_modified:
            status = "not modified (304)"
        else:
            notes = []
            if s.pages_failed:
                notes.append(f"{s.pages_failed} pages failed (stored text kept; retried next run)")
            if s.left:
                notes.append(f"stopped at source_deadline; {s.left} items left for the next run")
            if s.bad_items:
                notes.append(f"{s.bad_items} items skipped (bad link or content; see -v)")
            if s.no_text:
                notes.append(f"{s.no_text} pages without main text (feed summary kept)")
            if s.warning:
                notes.append(f"malformed feed, entries kept: {s.warning[:60]}")
            status = "ok" + ("; " + "; ".join(notes) if notes else "")
        table.add_row(s.name, str(s.new), str(s.updated), str(s.unchanged), status)
    _console().print(table)
    placed = report.stories
    if placed.placed:
        _console().print(
            f"Stories: {placed.placed} articles placed, {placed.joined} joined an existing story, "
            f"{placed.stories} new stories" + (f", {placed.merged} merged" if placed.merged else "")
        )


def _maybe_config(state: State) -> Config | None:
    return state.config() if state.config_path.exists() else None


def _stored_tags(store: Store) -> set[str]:
    return tag_ids(store)


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
