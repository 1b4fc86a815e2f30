"""Progress while fetching: a bar per source on a terminal, plain lines otherwise; the summary."""

from __future__ import annotations

from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from tracker.cli.base import State
from tracker.cli.render import make_console
from tracker.ingest.pipeline import FetchReport, SourceReport


class RichProgress:
    """One bar per source on a terminal; otherwise one plain line per source on stderr.

    A source's bar appears when its work starts (pulsing until its items are counted); a source
    that fails or is skipped ends with an empty bar and its outcome in red or yellow, never a
    full green one. A failure to resolve a host name is held back: when every source fails so,
    the CLI says once that the machine looks offline instead of a line per source.
    """

    def __init__(self, progress: Progress | None, quiet: bool = False) -> None:
        self.progress = progress
        self.quiet = quiet
        self.tasks: dict[str, Any] = {}
        self.held: list[str] = []

    def start(self, source: str, total: int) -> None:
        if self.progress is None:
            return
        if source in self.tasks:
            self.progress.update(self.tasks[source], total=total or None)
        else:
            self.tasks[source] = self.progress.add_task(escape(source), total=total or None)

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
            if task is None:
                return
            name = escape(report.name)
            if report.skipped or report.error:
                label = (
                    f"[yellow]{name} (skipped)[/]" if report.skipped else f"[red]{name} failed[/]"
                )
                self.progress.update(task, description=label, total=1, completed=0)
            else:
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
            line = f"{report.name}: {outcome}"
            if report.unresolved:
                self.held.append(line)
            else:
                click.echo(line, err=True)

    def close(self, report: FetchReport) -> None:
        """After the run: the held lines, unless the CLI will say "offline" once instead."""
        if not report.offline:
            for line in self.held:
                click.echo(line, err=True)


BAR = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def run_with_progress(state: State, run: Any) -> FetchReport:
    console = make_console(stderr=True)
    if state.quiet or not console.is_terminal:
        plain = RichProgress(None, quiet=state.quiet)
        report: FetchReport = run(plain)
        plain.close(report)
        return report
    with Progress(*BAR, console=console, transient=False) as bar:
        return run(RichProgress(bar))  # type: ignore[no-any-return]


def print_report(report: FetchReport) -> None:
    """The fetch summary: a row per source, its status wrapped (never cut) at 80 columns."""
    from tracker.cli.tables import Column, print_table

    rows = []
    for s in report.sources:
        if s.skipped:
            status = Text(f"skipped: {s.skipped}", style="yellow")
        elif s.error:
            status = Text(f"failed: {s.error}", style="red")
        elif s.not_modified:
            status = Text("not modified (304)")
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
            if s.note:
                notes.append(s.note)
            status = Text("ok" + ("; " + "; ".join(notes) if notes else ""))
        # A source's name and a server's error text are Text: shown as they are, never markup.
        rows.append(
            {
                "source": Text(s.name),
                "new": s.new,
                "updated": s.updated,
                "unchanged": s.unchanged,
                "status": status,
            }
        )
    columns = [
        Column("source"),
        Column("new", justify="right"),
        Column("updated", justify="right", drop=2),
        Column("unchanged", justify="right", drop=1),
        Column("status", fit="wrap", min_width=20),
    ]
    console = make_console()
    print_table(console, rows, columns, title="Fetch summary")
    placed = report.stories
    if placed.placed:
        console.print(
            f"Stories: {placed.placed} articles placed, {placed.joined} joined an existing story, "
            f"{placed.stories} new stories" + (f", {placed.merged} merged" if placed.merged else "")
        )
    links = report.links
    if links.mentions:
        console.print(
            f"Entities: {links.mentions} mentions of listed names found in {links.articles_read} "
            "articles read" + (f" ({links.new_names} new names)" if links.new_names else "")
        )
