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


def print_hits_table(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    """Search results as a table sized to the terminal."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, expand=True)
    table.add_column("id", style="dim", no_wrap=True, min_width=8, max_width=8)
    table.add_column("date", no_wrap=True, min_width=10, max_width=10)
    table.add_column("source", overflow="fold", ratio=1, min_width=8)
    table.add_column("title / snippet", ratio=5, overflow="fold")  # CJK has no spaces to wrap at
    table.add_column("tags", overflow="ellipsis", no_wrap=True, ratio=2, style="cyan")
    for row in rows:
        body = Text(row["title"] or "(no title)", style="bold")
        if row.get("snippet"):
            body.append("\n")
            body.append_text(highlighted(row["snippet"]))
        also = row.get("also") or []
        if also:
            names = list(dict.fromkeys(m.get("publisher") or m["source"] for m in also))
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            body.append(f"\n+{len(also)} more ({shown})", style="green")
        ranked = sorted(
            row.get("tags", []), key=lambda t: (not t.get("in_title"), -t.get("count", 1))
        )
        tags = "\n".join(f"{t['kind']}:{t['slug']}" for t in ranked[:6])
        if len(ranked) > 6:
            tags += f"\n+{len(ranked) - 6} more"
        table.add_row(
            row["id"][:8],
            (row.get("published_at") or "")[:10],
            Text(row["source"]),  # Text, not str: stored text is never read as markup
            body,
            Text(tags),
        )
    console.print(table)


def make_console(stderr: bool = False) -> Console:
    """A rich console for our output: no guessing at highlights, no wrapping of long lines."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_plain_rows(rows: Sequence[dict[str, Any]], fmt: str) -> None:
    if fmt != "table":
        click.echo(render_rows(rows, fmt))
        return
    if not rows:
        click.echo("(nothing)", err=True)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table()
    for key in rows[0]:
        table.add_column(key, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row.values()))
    make_console().print(table)
