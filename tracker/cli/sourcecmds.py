"""The ``tracker sources`` commands: see, check and edit the configured sources."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.base import State, cli, maybe_config, utc_now
from tracker.cli.render import FORMATS, make_console, minute, print_plain_rows
from tracker.errors import ParseError
from tracker.ingest.sources import KINDS

if TYPE_CHECKING:
    from tracker.config.load import Config


@cli.group()
def sources() -> None:
    """Inspect and manage sources: list, status, add, remove, enable, disable, test, OPML."""


@sources.command(name="list")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def sources_list(state: State, fmt: str) -> None:
    """List sources: those in tracker.toml, then those the database's articles came from
    that the config no longer (or never) named, with article counts and the last error.

    \b
    Examples:
      tracker sources list
      tracker sources list --format json | jq '.[] | select(.last_error)'
      tracker --db demo.db sources list      # a database's own sources, no config needed
    """
    from tracker.cli.tables import Column

    config = maybe_config(state)
    stored = (
        {r["name"]: r for r in state.store(readonly=True).source_rows()}
        if state.db_path.exists()
        else {}
    )
    rows = []
    for s in config.sources if config else []:
        st = stored.pop(s.name, {})
        rows.append(
            {
                "name": s.name,
                "kind": s.kind,
                "enabled": s.enabled,
                "in_config": True,
                "articles": st.get("articles", 0),
                "last_run": st.get("last_run"),
                "url": KINDS[s.kind].feed_url(s) or s.url,  # a search shows its query
                "last_error": st.get("last_error"),
            }
        )
    for name, st in stored.items():  # the database's own: a demo, an old config, another machine
        rows.append(
            {
                "name": name,
                "kind": st["kind"],
                "enabled": bool(st["enabled"]),
                "in_config": False,
                "articles": st["articles"],
                "last_run": st["last_run"],
                "url": st["url"],
                "last_error": st["last_error"],
            }
        )
    if fmt == "table":
        for row in rows:
            row["enabled"] = "on" if row["enabled"] else "off"
            if not row["in_config"]:
                row["enabled"] = "not in config"
            row["last_run"] = minute(row["last_run"])
    columns = [
        Column("name"),
        Column("kind", drop=4),
        Column("enabled", header="state", drop=3),
        Column("articles", justify="right"),
        Column("last_run", header="last run", drop=2),
        Column("url", fit="cut", drop=5, min_width=20),
        Column("last_error", header="last error", fit="wrap", drop=1, min_width=16),
    ]
    if fmt == "table":
        for row in rows:
            row.pop("in_config")
    print_plain_rows(rows, fmt, columns, empty="No sources: run 'tracker init' or add one.")


def _state_label(row: dict[str, Any], enabled: bool, now: datetime) -> str:
    from tracker.ingest.health import is_stale

    if not enabled:
        return "disabled in config"
    if row.get("disabled_reason"):
        return "disabled (410 Gone)"
    if row.get("next_attempt_at") and datetime.fromisoformat(row["next_attempt_at"]) > now:
        return "backing off"
    last_error, last_success = row.get("last_error_at"), row.get("last_success_at")
    if row.get("failures") or (last_error and (not last_success or last_error > last_success)):
        return "failing"  # also after 'sources enable' reset the count, until it next succeeds
    if not row.get("last_run_at"):
        return "never run"
    if is_stale(row.get("last_new_at"), row.get("added_at"), now):
        return "stale (nothing new in 14 days)"
    return "ok"


@sources.command(name="status")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def sources_status(state: State, fmt: str) -> None:
    """Health of every source: last success and error, failures in a row, next attempt,
    articles in 7 and 30 days, median fetch time, and a stale flag.

    \b
    Examples:
      tracker sources status
      tracker sources status --format json | jq '.[] | select(.state != "ok")'
    """
    from tracker.cli.tables import Column

    config = state.config()
    now = utc_now()
    health = (
        {r["name"]: r for r in state.store(readonly=True).source_health_rows(now)}
        if state.db_path.exists()
        else {}
    )
    rows = []
    for s in config.sources:
        h = health.get(s.name, {})
        rows.append(
            {
                "name": s.name,
                "state": _state_label(h, s.enabled, now),
                "last_success": h.get("last_success_at"),
                "last_error": h.get("disabled_reason") or h.get("last_error"),
                "failures": h.get("failures", 0),
                "next_attempt": h.get("next_attempt_at"),
                "new_7d": h.get("articles_7d", 0),
                "new_30d": h.get("articles_30d", 0),
                "median_ms": h.get("median_fetch_ms"),
            }
        )
    if fmt == "table":
        for row in rows:
            for key in ("last_success", "next_attempt"):
                row[key] = minute(row[key])
    columns = [
        Column("name"),
        Column("state", fit="wrap", min_width=11),
        Column("last_success", header="last success", drop=3),
        Column("last_error", header="last error", fit="wrap", drop=2, min_width=16),
        Column("failures", justify="right", drop=5),
        Column("next_attempt", header="next attempt", drop=4),
        Column("new_7d", header="new 7d", justify="right", drop=6),
        Column("new_30d", header="new 30d", justify="right", drop=7),
        Column("median_ms", header="median ms", justify="right", drop=8),
    ]
    print_plain_rows(rows, fmt, columns, empty="No sources: run 'tracker init' or add one.")


@sources.command(name="add")
@click.argument("name")
@click.argument("url", required=False)
@click.option("--kind", "-k", type=click.Choice(list(KINDS)), default="rss", show_default=True)
@click.option("--lang", help="Language hint: en, zh-Hans, zh-Hant.")
@click.option("--fetch-articles", is_flag=True, help="rss / google-news: read each article page.")
@click.option("--selector", "link_selector", help="page: CSS selector of the article links.")
@click.option("--query", help="google-news: the search query.")
@click.option(
    "--edition",
    type=click.Choice(["en-US", "zh-CN", "zh-TW", "zh-HK"]),
    help="google-news: the edition (default en-US).",
)
@click.option("--min-interval", type=float, help="Seconds between requests to this host.")
@click.option("--disabled", is_flag=True, help="Add it switched off.")
@click.option(
    "--no-check", is_flag=True, help="rss: add the URL without fetching it to check it is a feed."
)
@click.option(
    "--yes", "-y", is_flag=True, help="rss: take the feed a web page links to without asking."
)
@click.pass_obj
def sources_add(
    state: State,
    name: str,
    url: str | None,
    kind: str,
    lang: str | None,
    fetch_articles: bool,
    link_selector: str | None,
    query: str | None,
    edition: str | None,
    min_interval: float | None,
    disabled: bool,
    no_check: bool,
    yes: bool,
) -> None:
    """Add a source to tracker.toml (writes the file; comments are kept).

    URL may be left out for federal-register, public-inspection and google-news. An rss
    URL is fetched once to check it is a feed; a web page's own feed (its <link
    rel="alternate">) is offered instead, or taken with --yes.

    \b
    Examples:
      tracker sources add the-register https://www.theregister.com/headlines.atom
      tracker sources add gnews-tw --kind google-news --query "實體清單 晶片" --edition zh-TW
      tracker sources add bis-news https://www.bis.gov/news-updates --kind page --selector "main a"
      tracker sources add fr-bis --kind federal-register
    """
    from tracker.config.edit import add_sources

    _check_add(name, url, kind, link_selector, query)
    if kind == "rss" and url and not no_check:
        url = _feed_or_linked(state, name, url, yes)
    entry: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "url": url,
        "lang": lang,
        "link_selector": link_selector,
        "query": query,
        "edition": edition,
        "min_interval": min_interval,
    }
    if fetch_articles:
        entry["fetch_articles"] = True
    if disabled:
        entry["enabled"] = False
    add_sources(state.config_path, [entry])
    click.echo(f"Added {name} to {state.config_path}. Try it: tracker sources test {name}")


FLAGS = {
    "link_selector": "--selector 'CSS selector of the article links'",
    "query": "--query WORDS",
}


def _check_add(
    name: str, url: str | None, kind: str, link_selector: str | None, query: str | None
) -> None:
    """Refuse an add that lacks what its kind needs, saying what to type (before any write)."""
    from tracker.cli.base import UsageProblem

    spec = KINDS[kind]
    if url is None and spec.default_url is None:
        raise UsageProblem(
            f"a {kind} source needs its URL: tracker sources add {name} https://... --kind {kind}"
        )
    given = {"link_selector": link_selector, "query": query}
    for key in spec.required:
        if key in given and not given[key]:
            raise UsageProblem(
                f"a {kind} source needs {FLAGS.get(key, key)}: tracker sources add {name} "
                f"{url or ''} --kind {kind} {FLAGS.get(key, key)}".replace("  ", " ")
            )


def _feed_or_linked(state: State, name: str, url: str, yes: bool) -> str:
    """``url`` when it is a feed (or cannot be checked now); the feed a page links to when the
    user takes it; otherwise a refusal that says what to type."""
    import sys
    from dataclasses import replace

    from tracker.cli.base import UsageProblem
    from tracker.config.load import Settings
    from tracker.ingest.discover import check_feed
    from tracker.ingest.http import Fetcher, make_session

    config = maybe_config(state)
    settings = replace(
        config.settings if config else Settings(),
        retries=0,
        connect_timeout=5,
        read_timeout=10,
        request_deadline=15,
    )
    check = check_feed(Fetcher(make_session(settings), settings), url)
    if check.problem:
        click.echo(f"Could not check {url} ({check.problem}); adding it as given.", err=True)
        return url
    if not check.is_page:
        return url
    if not check.links:
        raise UsageProblem(
            f"{url} is a web page that links to no feed. For a listing page use --kind page "
            "--selector 'CSS selector of the article links'; --no-check adds the URL as it is"
        )
    feed = check.links[0]
    named = f" ({feed.title})" if feed.title else ""
    found = f"{url} is a web page, not a feed; it links to the feed {feed.url}{named}"
    if yes or (
        sys.stdin.isatty() and click.confirm(f"{found}. Add that feed?", default=True, err=True)
    ):
        click.echo(f"Using {feed.url}", err=True)
        return feed.url
    raise UsageProblem(f"{found}. To add it: tracker sources add {name} {feed.url}")


@sources.command(name="remove")
@click.argument("name")
@click.pass_obj
def sources_remove(state: State, name: str) -> None:
    """Remove a source from tracker.toml (its stored articles stay).

    \b
    Example:
      tracker sources remove sina-tech
    """
    from tracker.config.edit import remove_source

    remove_source(state.config_path, name)
    click.echo(f"Removed {name} from {state.config_path}")


@sources.command(name="enable")
@click.argument("name")
@click.pass_obj
def sources_enable(state: State, name: str) -> None:
    """Switch a source on, and forget its failures, backoff and any 410 Gone.

    \b
    Example:
      tracker sources enable bbc-zh-trad && tracker fetch --source bbc-zh-trad
    """
    from tracker.config.edit import set_enabled

    set_enabled(state.config_path, name, True)
    if state.db_path.exists():
        state.store().reset_source_state(name)
    click.echo(f"Enabled {name}")


@sources.command(name="disable")
@click.argument("name")
@click.pass_obj
def sources_disable(state: State, name: str) -> None:
    """Switch a source off (it stays in tracker.toml).

    \b
    Example:
      tracker sources disable ithome
    """
    from tracker.config.edit import set_enabled

    set_enabled(state.config_path, name, False)
    click.echo(f"Disabled {name}")


@sources.command(name="test")
@click.argument("name")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
)
@click.pass_obj
def sources_test(state: State, name: str, fmt: str) -> None:
    """Fetch one source once and show what would be stored; writes nothing.

    Exits 1 when the source fails.

    \b
    Examples:
      tracker sources test fr-bis
      tracker sources test gnews-en --format json | jq '.[].title'
    """
    from tracker.ingest.http import Fetcher, make_session
    from tracker.ingest.pipeline import preview_source

    config = state.config()
    source = _source(config, name)
    fetcher = Fetcher(make_session(config.settings), config.settings)
    report, tagged = preview_source(fetcher, source, state.tagger(config))
    if report.error:
        raise click.ClickException(f"{name} failed: {report.error}")
    rows: list[dict[str, Any]] = [
        {
            "title": a.title,
            "url": a.url,
            "published_at": a.published_at.isoformat() if a.published_at else None,
            "lang": a.lang,
            "relevance": a.relevance,
            "tags": [
                {
                    "kind": h.kind,
                    "slug": h.slug,
                    "name": h.name,
                    "count": h.count,
                    "in_title": h.in_title,
                }
                for h in hits
            ],
        }
        for a, hits in tagged
    ]
    if fmt == "table":
        from tracker.cli.render import tag_line
        from tracker.cli.tables import Column

        for row in rows:
            row["tags"] = tag_line(row["tags"], 4)
            row["published_at"] = (row["published_at"] or "")[:10]
        columns = [
            Column("published_at", header="date"),
            Column("lang", drop=2),
            Column("title", fit="wrap", min_width=24),
            Column("tags", fit="wrap", drop=1, min_width=16),
            Column("relevance", justify="right", drop=3),
            Column("url", fit="cut", drop=4, min_width=20),
        ]
        print_plain_rows(rows, fmt, columns, empty="The source gave no items.")
    else:
        print_plain_rows(rows, fmt, empty="The source gave no items.")
    if fmt == "table":
        notes = f"; {report.warning}" if report.warning else ""
        make_console(stderr=True).print(
            f"{len(rows)} articles would be stored (nothing written){notes}", markup=False
        )


def _source(config: Config, name: str) -> Any:
    for s in config.sources:
        if s.name == name:
            return s
    raise click.BadParameter(
        f"no source named {name!r}; see 'tracker sources list'", param_hint="NAME"
    )


@sources.command(name="import-opml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def sources_import_opml(state: State, file: Path) -> None:
    """Add the feeds of an OPML file (from Feedly, Inoreader, Miniflux ...) as rss sources.

    Feeds already configured (same URL) are skipped.

    \b
    Example:
      tracker sources import-opml ~/Downloads/feedly.opml
    """
    from tracker.config.edit import add_sources
    from tracker.config.opml import parse_opml, source_name
    from tracker.ingest.collect import feed_url

    try:
        outlines = parse_opml(file.read_bytes())
    except ParseError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    config = maybe_config(state)
    existing = list(config.sources) if config else []
    urls = {feed_url(s) for s in existing}
    taken = {s.name for s in existing}
    new = []
    for outline in outlines:
        if outline.xml_url in urls:
            continue
        urls.add(outline.xml_url)
        name = source_name(outline.title, taken)
        taken.add(name)
        new.append({"name": name, "kind": "rss", "url": outline.xml_url})
    if new:
        add_sources(state.config_path, new)
    skipped = len(outlines) - len(new)
    click.echo(f"Imported {len(new)} feeds into {state.config_path} ({skipped} already there)")
    for entry in new:
        click.echo(f"  {entry['name']}  {entry['url']}")
    if new:
        click.echo(f"Try one: tracker sources test {new[0]['name']}")


@sources.command(name="export-opml")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def sources_export_opml(state: State, file: Path | None) -> None:
    """Write the feed sources (rss and google-news) as OPML, to FILE or standard output.

    \b
    Examples:
      tracker sources export-opml > tracker.opml
      tracker sources export-opml backup.opml
    """
    from tracker.config.opml import render_opml
    from tracker.ingest.collect import feed_url

    config = state.config()
    feeds = [(s, url) for s in config.sources if (url := feed_url(s)) is not None]
    text = render_opml(feeds)
    if file is None:
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(feeds)} feeds to {file}", err=True)
