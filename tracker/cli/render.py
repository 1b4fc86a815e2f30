"""Output formats for lists of results: table (rich), json, ndjson, csv."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # rich loads only when a table is drawn: --format json never waits for it
    from rich.console import Console
    from rich.text import Text

    from tracker.cli.tables import Column

FORMATS = ("table", "json", "ndjson", "csv")
MARK = re.compile(r"\[([^\[\]]*)\]")


def render_rows(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    """Rows as json (an array), ndjson (one object a line) or csv (tags joined with ';')."""
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2)
    if fmt == "ndjson":
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    if fmt == "csv":
        buf = io.StringIO()
        if rows:
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _flat(v) for k, v in row.items()})
        return buf.getvalue().rstrip("\n")
    raise ValueError(f"unknown format {fmt!r}")


def _flat(value: Any) -> Any:
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return ";".join(_flat_item(v) for v in value)
    return value


def _flat_item(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value['kind']}:{value['slug']}" if "kind" in value else str(value.get("id", ""))
    return str(value)


def highlighted(snippet: str) -> Text:
    """A snippet whose [marked] matches are shown in bold yellow instead of brackets."""
    from rich.text import Text

    text = Text()
    cursor = 0
    for m in MARK.finditer(snippet):
        text.append(snippet[cursor : m.start()])
        text.append(m.group(1), style="bold yellow")
        cursor = m.end()
    text.append(snippet[cursor:])
    return text


def tag_line(tags: Sequence[dict[str, Any]], limit: int) -> str:
    """The first ``limit`` tags, most specific first, as ``kind:slug`` words and "+N"."""
    from tracker.tagging import most_specific_first

    ranked = most_specific_first(list(tags))
    words = [f"{t['kind']}:{t['slug']}" for t in ranked[:limit]]
    if len(ranked) > limit:
        words.append(f"+{len(ranked) - limit}")
    return " ".join(words)


def print_hits_table(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    """Search results as a table sized to the terminal: at 80 columns the source sits under the
    date and the tags under the snippet, so no tag is cut; wider, each has its column."""
    from rich.text import Text

    from tracker.cli.tables import WIDE, Column, print_table

    wide = console.width >= WIDE
    table_rows = []
    for row in rows:
        body = Text()
        body.append(row["title"] or "(no title)", style="bold")  # the title only: not the snippet
        if row.get("snippet"):
            body.append("\n")
            body.append_text(highlighted(row["snippet"]))
        tags = tag_line(row.get("tags", []), 6 if wide else 4)
        if tags and not wide:
            body.append("\n" + tags, style="cyan")
        also = row.get("also") or []
        if also:
            names = list(dict.fromkeys(m.get("publisher") or m["source"] for m in also))
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            body.append(f"\n+{len(also)} more ({shown})", style="green")
        date = (row.get("published_at") or "")[:10]
        table_rows.append(
            {
                "id": row["id"][:8],
                "date": Text(date if wide else f"{date}\n{row['source']}"),
                "source": Text(row["source"]),  # Text, not str: stored text is never markup
                "title": body,
                "tags": Text(tags.replace(" ", "\n"), style="cyan"),
            }
        )
    if wide:
        columns = [
            Column("id", style="dim"),
            Column("date"),
            Column("source", fit="wrap", min_width=10, max_width=24),
            Column("title", header="title / snippet", fit="wrap", min_width=30),
            Column("tags", drop=1),
        ]
    else:
        columns = [
            Column("id", style="dim"),
            Column("date", header="date\nsource", fit="cut", min_width=10, max_width=13),
            Column("title", header="title / snippet / tags", fit="wrap", min_width=30),
        ]
    print_table(console, table_rows, columns, lines=True)


def make_console(stderr: bool = False) -> Console:
    """A rich console for our output: no guessing at highlights, no wrapping of long lines."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_plain_rows(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    columns: Sequence[Column] | None = None,
    *,
    empty: str = "Nothing matches.",
) -> None:
    """Rows in ``fmt``; a table fits the terminal (``columns`` say how each gives way, else the
    first column stays and the last go first). No rows: ``empty`` on stderr (``[]`` for json)."""
    if fmt != "table":
        if rows or fmt == "json":
            click.echo(render_rows(rows, fmt))
        else:
            say_empty(empty)
        return
    if not rows:
        say_empty(empty)
        return
    from tracker.cli.tables import Column, print_table

    if columns is None:
        columns = [
            Column(
                key,
                fit="wrap" if any(len(str(r.get(key) or "")) > 24 for r in rows) else "full",
                drop=i,
                justify="right"
                if all(isinstance(r.get(key), int | float | None) for r in rows)
                else "left",
            )
            for i, key in enumerate(rows[0])
        ]
    print_table(make_console(), rows, columns)


def minute(moment: str | None) -> str:
    """A stored ISO time as a table shows it: ``2026-12-05 14:05`` (UTC), or nothing."""
    return (moment or "")[:16].replace("T", " ")


def say_empty(message: str) -> None:
    """An empty answer: one line on stderr, exit 0, the same in every command, so a pipe gets
    nothing (json gets ``[]``) and a person is told why the screen is empty."""
    click.echo(message, err=True)
