"""Progress while fetching: a bar per source on a terminal, plain lines otherwise; the summary."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from tracker.cli.base import State
from tracker.cli.render import make_console
from tracker.ingest.pipeline import FetchReport, SourceReport


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


BAR = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def run_with_progress(state: State, run: Any) -> FetchReport:
    console = make_console(stderr=True)
    if state.quiet or not console.is_terminal:
        return run(RichProgress(None, quiet=state.quiet))  # type: ignore[no-any-return]
    with Progress(*BAR, console=console, transient=False) as bar:
        return run(RichProgress(bar))  # type: ignore[no-any-return]


def print_report(report: FetchReport) -> None:
    table = Table(title="Fetch summary", title_justify="left")
    for col in ("source", "new", "updated", "unchanged", "status"):
        table.add_column(col, justify="right" if col in ("new", "updated", "unchanged") else "left")
    for s in report.sources:
        if s.skipped:
            status = f"[yellow]skipped: {escape(s.skipped)}[/yellow]"
        elif s.error:
            status = f"[red]failed: {escape(s.error)}[/red]"
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
                notes.append(f"malformed feed, entries kept: {escape(s.warning[:60])}")
            status = "ok" + ("; " + "; ".join(notes) if notes else "")
        # A source's name and a server's error text are shown as they are, never as markup.
        table.add_row(Text(s.name), str(s.new), str(s.updated), str(s.unchanged), status)
    make_console().print(table)
    placed = report.stories
    if placed.placed:
        make_console().print(
            f"Stories: {placed.placed} articles placed, {placed.joined} joined an existing story, "
            f"{placed.stories} new stories" + (f", {placed.merged} merged" if placed.merged else "")
        )
