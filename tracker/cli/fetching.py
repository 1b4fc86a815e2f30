"""Commands that bring articles in: init, fetch, demo."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from tracker.cli.base import State, cli, utc_now
from tracker.cli.render import make_console, print_hits_table

if TYPE_CHECKING:
    from datetime import datetime

    from tracker.ingest.pipeline import FetchReport
    from tracker.store import Store
    from tracker.tagging.tagger import Tagger


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
    from tracker.config.load import default_config_text

    path = state.config_path
    if path.exists() and not force:
        raise click.ClickException(f"{path} already exists; edit it, or pass --force to overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_config_text(), encoding="utf-8")
    click.echo(f"Wrote {path}. Edit it, then run: tracker fetch")


# ---------------------------------------------------------------- fetch
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
@click.option(
    "--force", is_flag=True, help="Also fetch sources that are backing off or disabled by a 410."
)
@click.pass_obj
def fetch(state: State, only: tuple[str, ...], refetch: bool, force: bool) -> None:
    """Pull every enabled source, store new and updated articles, print a summary.

    Exits 1 when any source failed; the others are still stored, and each failure is
    recorded in the fetch_log table with its reason. A failing source is tried again
    later and later (15 minutes, doubling, at most a day); --force, or naming it with
    --source, tries it now.

    \b
    Examples:
      tracker fetch
      tracker fetch --source bbc-zh-simp --source the-register
      tracker -q fetch   # for cron: errors only
    """
    try:
        code = fetch_sources(state, only, refetch=refetch, force=force)
    except KeyboardInterrupt:
        interrupted()
    if code:
        raise SystemExit(code)


def interrupted() -> NoReturn:
    click.echo(
        "Interrupted: every batch fetched so far is stored; run 'tracker fetch' again to carry on.",
        err=True,
    )
    raise SystemExit(130)


NOTHING_DUE = 75  # sysexits' EX_TEMPFAIL: nothing was fetched, every source is backing off


def fetch_sources(
    state: State, only: tuple[str, ...] = (), *, refetch: bool = False, force: bool = False
) -> int:
    """Fetch the enabled sources (or ``only`` these) and print the summary. Returns the exit
    code: 0 every source succeeded; 1 one failed (reported and recorded; the others are
    stored), the machine looks offline, or another fetch holds the database; NOTHING_DUE when
    every source was skipped (backing off or disabled), so cron sees a run that did nothing.

    Raises:
        KeyboardInterrupt: Ctrl-C or SIGTERM; every batch committed before stays.
        click.ClickException, click.BadParameter: nothing to fetch, or an unknown source.
    """
    from tracker.cli.progress import print_report, run_with_progress
    from tracker.ingest.http import Fetcher, make_session
    from tracker.ingest.pipeline import run_fetch
    from tracker.store.locks import Busy, exclusive, lock_path

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
    tagger = state.tagger(config)
    fetcher = Fetcher(make_session(config.settings), config.settings)
    try:
        # The lock first: a second fetch is refused before it opens, checks or migrates anything.
        with exclusive(lock_path(state.db_path, "fetch"), "a fetch"):
            store = state.store()
            try:
                _check_daily(store, state.db_path)
                report = run_with_progress(
                    state,
                    lambda p: run_fetch(
                        store,
                        fetcher,
                        sources,
                        tagger,
                        refetch=refetch,
                        progress=p,
                        force=force or bool(only),
                        source_workers=config.settings.source_workers,
                        story_rules=config.stories,
                        place_progress=p.placing,
                        source_deadline=config.settings.source_deadline,
                    ),
                )
            finally:
                store.close()
    except Busy as exc:
        # A failed fetch, not an exception: `tracker run` still sends the digest after it.
        click.echo(f"Error: {exc}", err=True)
        return 1
    if report.offline:
        tried = [s for s in report.sources if not s.skipped]
        click.echo(
            f"Error: this machine looks offline: none of the {len(tried)} sources' host names\n"
            "resolved (DNS). Nothing changed; check the network and run again.",
            err=True,
        )
        return 1
    if not state.quiet:
        print_report(report)
    if all(s.skipped for s in report.sources):
        click.echo(_nothing_due(report, now=utc_now()), err=True)
        return NOTHING_DUE
    if report.failures:
        failed = ", ".join(s.name for s in report.failures)
        click.echo(f"Error: {len(report.failures)} source(s) failed: {failed}", err=True)
        return 1
    return 0


def _demo_tour(store: Store, db_path: Path, tagger: Tagger) -> None:
    """What the demo stored, its biggest stories and tags, two searches, and what to try next."""
    from rich.text import Text

    from tracker.search.engine import search
    from tracker.store.stories import list_stories
    from tracker.store.tags import article_counts

    console = make_console()
    console.print(f"\nStored {store.count()} articles in {db_path}", markup=False)
    joined = list_stories(store, min_size=2, limit=1000)
    if joined:
        console.print(
            f"{len(joined)} stories carried by more than one article; the largest:", markup=False
        )
        for r in joined[:3]:
            line = Text("  ")
            line.append(r["title"] or "", style="bold")
            line.append(f"\n    {r['size']} articles: {', '.join(r['sources'])}", style="dim")
            console.print(line)
    top = list(article_counts(store).items())[:12]
    console.print("Most common tags: " + ", ".join(f"{tag}({n})" for tag, n in top))
    prefix = f"tracker --db {db_path}"  # the demo's store is never the default database
    for query in ("H20 licence", "实体清单"):
        console.print(
            Text(f'\n$ {prefix} search "{query}"', style="bold"), soft_wrap=True
        )  # a command: never broken by an inserted newline
        # as `tracker search` runs it
        hits = search(store, query, limit=3, expand=tagger.lookup, covers=tagger.covers)
        print_hits_table(console, [h.as_dict() for h in hits])
    console.print("\nTry next:", markup=False)
    for command in (
        f"{prefix} search 輝達 --format json",
        f"{prefix} stories",
        f"{prefix} digest",
        f"{prefix} show {DEMO_SHOW_ID}",
        f"{prefix} entity 中芯国际",
        f"{prefix} search listed:entity-list",
    ):
        console.print(f"  {command}", markup=False, soft_wrap=True)


DEMO_SHOW_ID = "1ea6fd07"  # the demo's Entity List rule: the same id in every demo store


def _nothing_due(report: FetchReport, now: datetime) -> str:
    """Why a fetch fetched nothing, when it will, and how to make it try now."""
    n = len(report.sources)
    due = report.next_attempt
    if due is None:
        return (
            f"Error: nothing fetched: all {n} sources are disabled.\n"
            "See 'tracker sources status'; 'tracker sources enable NAME' switches one back on."
        )
    minutes = max(1, round((due - now).total_seconds() / 60))
    wait = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return (
        f"Error: nothing fetched: all {n} sources are backing off after failures.\n"
        f"The first is due at {due:%Y-%m-%d %H:%M} UTC (in {wait}); "
        "'tracker fetch --force' tries them now."
    )


def _check_daily(store: Store, db_path: Path) -> None:
    """``PRAGMA quick_check`` before a fetch, at most once a day: damage anywhere in the file is
    named before new rows go on top of it. It reads the whole file (about 1 s for 200,000
    articles), so an hourly cron pays it once a day; the time of the last clean check is the
    mtime of ``tracker.db.checked``."""
    from tracker.store import damaged

    marker = db_path.with_name(db_path.name + ".checked")
    with contextlib.suppress(OSError):
        if time.time() - marker.stat().st_mtime < 24 * 3600:
            return
    problem = store.check_integrity()
    if problem:
        raise click.ClickException(damaged(db_path, problem))
    with contextlib.suppress(OSError):
        marker.touch()


# ---------------------------------------------------------------- sources
@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Run the whole pipeline offline over a bundled sample site served from loopback.

    Fetches two RSS feeds, an Atom feed and a listing page (English, simplified and
    traditional Chinese; GB18030 and Big5 pages among them), a screening list and two
    Federal Register rules (dates ahead; an Entity List addition) into a demo database, then
    prints what it stored and two example searches. Needs no network.

    The demo database is demo.db beside your real database (or --db); it is
    recreated on each run and never touches your own data.

    \b
    Example:
      tracker demo
      tracker --db ~/.local/share/tracker/demo.db search 輝達 --format json
    """
    from tracker.cli.progress import print_report, run_with_progress
    from tracker.demo import (
        DEMO_ORIGIN,
        build_site,
        demo_settings,
        demo_sources,
        load_articles,
        serve_site,
        shifted,
    )
    from tracker.ingest.http import Fetcher, make_session
    from tracker.ingest.pipeline import run_fetch
    from tracker.store import Store

    state: State = ctx.obj
    explicit_db = ctx.parent is not None and ctx.parent.params.get("db") is not None
    db_path = state.db_path if explicit_db else state.db_path.with_name("demo.db")
    if not explicit_db:
        for suffix in ("", "-wal", "-shm"):  # a fresh demo each run; never a user's own database
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = Store.open(db_path)
    settings = demo_settings()
    # Dated up to today, at a fixed origin (connected to on loopback): the README's windows show
    # something, and its ids (tracker show ...) are the ids every demo store has.
    articles = shifted(load_articles(), utc_now())
    with serve_site(lambda base: build_site(base, articles), DEMO_ORIGIN) as served:
        sources = demo_sources(DEMO_ORIGIN)
        if not state.quiet:
            click.echo(
                f"Serving the sample site on {served}; fetching {len(sources)} sources ...",
                err=True,
            )
        fetcher = Fetcher(make_session(settings, connect_to={DEMO_ORIGIN: served}), settings)
        tagger = state.tagger()
        report = run_with_progress(
            state, lambda p: run_fetch(store, fetcher, sources, tagger, progress=p)
        )
    if not state.quiet:
        print_report(report)
        _demo_tour(store, db_path, tagger)
    if report.failures:
        raise SystemExit(1)
