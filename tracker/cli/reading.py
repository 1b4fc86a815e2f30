"""Commands that read the store: search, show."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker.cli.base import State, cli, maybe_config, stored_tags, utc_now
from tracker.cli.render import (
    FORMATS,
    highlighted,
    make_console,
    print_hits_table,
    print_plain_rows,
    say_empty,
)
from tracker.search import SORTS


# ---------------------------------------------------------------- search and show
class LimitType(click.IntRange):
    """--limit; ``search -nvidia`` reads as ``-n vidia``, so its error says how to search that."""

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, str) and value and not value.strip().lstrip("-").isdigit():
            self.fail(
                f"{value!r} is not a number. To search for a word that starts with '-', "
                f"put -- before the query: tracker search -- -n{value}",
                param,
                ctx,
            )
        return int(super().convert(value, param, ctx))


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
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="relevance",
    show_default=True,
    help="Order of the results (with no query: newest).",
)
@click.option("--exact", is_flag=True, help="Match the words only; no vocabulary expansion.")
@click.option(
    "--all-copies",
    is_flag=True,
    help="Every copy of a story; by default each story shows once, as its best-ranked member.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="QUERY is SQLite FTS5 syntax, passed through as is. The index holds folded text: "
    "lower case, simplified Chinese as bigrams, American spellings.",
)
@click.option("--limit", "-n", default=20, show_default=True, type=LimitType(1, 10000))
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice([*FORMATS, "atom", "rss"]),
    default="table",
    show_default=True,
    help="atom or rss: a feed of the results (one entry per story), for a feed reader.",
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
    sort: str,
    exact: bool,
    all_copies: bool,
    raw: bool,
    limit: int,
    fmt: str,
) -> None:
    """Search stored articles; with no QUERY, list the newest that match the filters.

    QUERY takes words (all must match), "exact phrases", OR, -excluded words, prefix*,
    title:word, and filters company:nvidia chip:h200 policy:entity-list source:NAME lang:zh.
    Chinese works in either script (英偉達 finds 英伟达). A word that names a company, chip
    or policy also finds articles tagged with it in any language (英伟达 finds English
    Nvidia stories); --exact turns that off. JSON rows list the expanded terms.

    Copies of one story (syndicated, rewritten, translated) show once, with "+N more
    (sources)"; --all-copies lists each. JSON rows carry story_id, story_size and also.

    \b
    Examples:
      tracker search "H200 licence" --tag company:nvidia --since 30d
      tracker search 实体清单 --lang zh --format json | jq '.[].title'
      tracker search --tag policy:entity-list --since 7d --format csv > week.csv
      tracker search '"entity list" -russia' --format ndjson
      tracker search --relevant --since 24h      # today's on-topic articles
      tracker search 'title:licence policy:entity-list lang:zh' --sort newest
      tracker search 'NEAR(nvidia h20, 5)' --raw
      tracker search "entity list" --all-copies --since 24h
      tracker search -- -russia sanctions       # -- before a query that starts with '-'
      tracker search 'entity:smic' --format atom > smic.xml   # a feed for a feed reader
    """
    from tracker.search.engine import parse_when, search

    now = utc_now()
    store = state.store(readonly=True)
    tagger = state.tagger(maybe_config(state))
    known = {e.tag_id for e in tagger.entries}
    hits = search(
        store,
        " ".join(query),
        tags=tags,
        lang=lang,
        sources=sources,
        limit=limit,
        since=parse_when(since, now) if since else None,
        until=parse_when(until, now) if until else None,
        known_tags=known | stored_tags(store),
        relevant=relevant,
        expand=None if exact else tagger.lookup,
        covers=None if exact else tagger.covers,
        raw=raw,
        sort=sort,
        collapse=not all_copies,
    )
    rows = [h.as_dict() for h in hits]
    if fmt in ("atom", "rss"):  # an empty feed is still a feed: a reader polls it again later
        from tracker.search.feedout import feed

        click.echo(feed(rows, fmt, " ".join(query), now))
    elif fmt == "table":
        if not rows:
            say_empty("No articles match.")
            return
        print_hits_table(make_console(), rows)
    else:
        print_plain_rows(rows, fmt, empty="No articles match.")


@cli.command()
@click.argument("article_id")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--highlight", "-H", metavar="QUERY", help="Highlight where QUERY's words occur.")
@click.pass_obj
def show(state: State, article_id: str, fmt: str, highlight: str | None) -> None:
    """Show one article: metadata, tags and clean text. ID may be a unique prefix.

    \b
    Examples:
      tracker show 1ea6fd07
      tracker show 1ea6fd07 --highlight "entity list"
      tracker show 1ea6fd07 --format json | jq .tags
    """
    from tracker.search.engine import mark_matches, parse_query
    from tracker.store.stories import story_members

    store = state.store(readonly=True)
    row = store.article(article_id)
    if row is not None and row.get("story_id") is not None:
        row["story"] = story_members(store, [row["story_id"]]).get(row["story_id"], [])
    if row is not None:
        from tracker.store.entities import entities_of

        row["entities"] = entities_of(store, [row["id"]])[row["id"]]
    if row is None:
        shown = article_id if len(article_id) <= 40 else article_id[:40] + "..."
        raise click.ClickException(
            f"no article with id {shown!r} (ids are hex digits, or enough of their start to be "
            "unique); find ids with 'tracker search'"
        )
    if fmt == "json":
        click.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    from rich.markup import escape  # stored text is never markup: "[/b]" in a title is text
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    from tracker.tagging import most_specific_first

    console = make_console()
    console.print(f"[bold]{escape(row['title'] or '')}[/bold]")
    for key in ("id", "url", "source", "published_at", "first_seen_at", "lang", "author"):
        if row.get(key):
            console.print(f"[dim]{key:>13}[/dim]  {escape(str(row[key]))}")
    if len(row.get("sources", [])) > 1:
        console.print(
            f"[dim]{'also carried by':>13}[/dim]  {escape(', '.join(row['sources'][1:]))}"
        )
    members = [m for m in row.get("story", []) if m["id"] != row["id"]]
    if members:
        console.print(
            f"[dim]{'story':>13}[/dim]  {row['story_id']}: {len(members)} other article(s)"
        )
        for m in members:
            role = "lead" if m["is_lead"] else (m["reason"] or "started it")
            line = Text()
            line.append(m["id"][:8], style="dim")
            line.append(f"  {(m['moment'] or '')[:10]}  {m['publisher'] or m['source']}: ")
            line.append(m["title"] or "")
            line.append(f"  ({role})", style="green")
            console.print(Padding(line, (0, 0, 0, 15)))  # wraps between words, under itself
    tags = ", ".join(
        f"{t['kind']}:{t['slug']}"
        + (f"×{t['count']}" if t["count"] > 1 else "")
        + ("*" if t["in_title"] else "")
        for t in most_specific_first(row["tags"])
    )
    grid = Table.grid(padding=(0, 2))  # the tags wrap under themselves, not under the label
    grid.add_column(width=13, justify="right", style="dim")
    grid.add_column()
    value = Text(tags or "(none)")
    value.append("  (* = in title)", style="dim")
    grid.add_row("tags", value)
    if row["entities"]:  # the listed organisations it names, and their lists
        named = ", ".join(
            f"{e['id']} ({', '.join(e['lists']) or 'no longer listed'})" for e in row["entities"]
        )
        grid.add_row("entities", Text(named))
    console.print(grid)
    if not row["extracted"]:
        console.print(f"[dim]{'':>13}  text is the feed's summary (the page was not read)[/dim]")
    console.print()
    text = row["text"] or row["summary"] or "(no text)"
    if highlight:
        words = parse_query(highlight).positive_terms
        console.print(highlighted(mark_matches(text, words)))
    else:
        console.print(text, markup=False)


@cli.command(name="export-feeds")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--since", default="30d", show_default=True, metavar="WHEN",
              help="How far back each feed reaches.")  # fmt: skip
@click.option("--limit", "-n", default=50, show_default=True, type=LimitType(1, 1000),
              help="Entries per feed.")  # fmt: skip
@click.pass_obj
def export_feeds(state: State, directory: Path, since: str, limit: int) -> None:
    """Write an Atom feed per digest subscriber's filter, and one per watched entity
    (entity-ID.atom), into DIRECTORY, for a static web server or a shared folder: a colleague
    who lives in a feed reader follows the same selection the digest mails (relevant articles
    when a subscriber has no filter).

    Each file is written whole, then renamed into place, so a web server never serves half a
    feed. Run it after each fetch (cron) to keep the feeds current.

    \b
    Examples:
      tracker export-feeds /var/www/feeds
      tracker export-feeds ~/Shared/tracker --since 7d -n 100
    """
    import os
    import re as regex

    from tracker.errors import QueryError
    from tracker.search.engine import parse_when, search
    from tracker.search.feedout import feed

    config = state.config()
    subscribers = config.digest.subscribers
    if not subscribers:
        raise click.ClickException(
            f"no [[digest.subscribers]] in {config.path}; add one with a filter (README, digest)"
        )
    now = utc_now()
    store = state.store(readonly=True)
    tagger = state.tagger(config)
    directory.mkdir(parents=True, exist_ok=True)
    for sub in subscribers:
        name = regex.sub(r"[^a-z0-9]+", "-", (sub.name or sub.email.split("@")[0]).lower())
        hits = search(
            store,
            sub.filter,
            since=parse_when(since, now),
            limit=limit,
            relevant=not sub.filter,
            sort="newest",
            expand=tagger.lookup,
            covers=tagger.covers,
        )
        path = directory / f"{name.strip('-') or 'subscriber'}.atom"
        part = path.with_suffix(".atom.part")
        part.write_text(
            feed([h.as_dict() for h in hits], "atom", sub.filter or "relevant articles", now),
            encoding="utf-8",
        )
        os.replace(part, path)
        click.echo(f"{path}: {len(hits)} entries ({sub.filter or 'relevant articles'})")
    # And one per watched entity (watch = ["entity:smic"]), shared by everyone watching it.
    watched = sorted(
        {w.split(":", 1)[1].lower() for sub in subscribers for w in sub.watch
         if regex.fullmatch(r"entity:\S+", w.strip())}
    )  # fmt: skip
    for ident in watched:
        query = f"entity:{ident}"
        try:
            hits = search(store, query, since=parse_when(since, now), limit=limit, sort="newest")
        except QueryError as exc:  # no longer known: said, and the other feeds still written
            click.echo(f"{query}: skipped: {exc}", err=True)
            continue
        name = regex.sub(r"[^\w]+", "-", ident).strip("-") or "entity"
        path = directory / f"entity-{name}.atom"
        part = path.with_suffix(".atom.part")
        part.write_text(feed([h.as_dict() for h in hits], "atom", query, now), encoding="utf-8")
        os.replace(part, path)
        click.echo(f"{path}: {len(hits)} entries ({query})")
