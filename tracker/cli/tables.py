"""Tables that stay readable in any terminal, 80 columns included.

A column says how it may give way when the terminal is narrow: ``full`` cells (ids, counts, dates,
tags) are never cut or broken; ``cut`` cells stay on one line and end in "…"; ``wrap`` cells wrap
between words (a CJK run, which has no spaces, folds). When even that does not fit, the columns
with the highest ``drop`` number go first, and a dim line under the table names them. A word is
never broken across lines, and a header is never split inside a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

WIDE = 110  # at this width and more, tables keep their boxes and every column
Fit = Literal["full", "cut", "wrap"]


@dataclass(frozen=True)
class Column:
    key: str
    header: str = ""  # default: the key, with "_" as a space
    fit: Fit = "full"
    drop: int = 0  # 0: always shown; when the terminal is narrow, the highest numbers go first
    min_width: int = 12  # for cut and wrap columns: narrower than this is unreadable
    max_width: int | None = None
    justify: Literal["left", "right"] = "left"
    style: str | None = None

    @property
    def title(self) -> str:
        return self.header or self.key.replace("_", " ")


def cell_text(value: Any) -> Text:
    """A value as the text of a cell: booleans as words, None as nothing, stored text never
    read as markup."""
    from rich.text import Text

    if isinstance(value, Text):
        return value
    if value is None:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list | tuple):
        return Text(", ".join(str(v) for v in value))
    return Text(str(value))


def _natural(texts: Sequence[Text], title: str) -> tuple[int, int]:
    """(widest line, widest single word) over a column's cells and header."""
    from rich.cells import cell_len

    widest = max([cell_len(line) for t in texts for line in t.plain.splitlines()] or [0])
    words = [w for t in texts for w in t.plain.split()] + title.split()
    return max(widest, cell_len(title)), max([cell_len(w) for w in words] or [0])


def _overhead(n: int, width: int) -> int:
    """Cells the box takes around ``n`` columns (see print_table's two styles)."""
    return 3 * n + 1 if width >= WIDE else 2 * (n - 1)


def fit_columns(
    columns: Sequence[Column], cells: dict[str, list[Text]], width: int
) -> tuple[list[tuple[Column, int]], list[Column]]:
    """The columns that fit in ``width``, each with the width it gets, and those dropped.

    ``full`` columns get their widest cell; ``cut`` and ``wrap`` columns their minimum, then
    share what is left in proportion to how much more their cells would use. Every width is
    fixed for rich, so it never shrinks an id or a count to make room for a long word.
    """
    from rich.cells import cell_len

    need: dict[str, int] = {}
    natural: dict[str, int] = {}
    for col in columns:
        widest, word = _natural(cells[col.key], col.title)
        header_word = max(cell_len(w) for w in col.title.split())
        if col.max_width:
            widest = min(widest, max(col.max_width, header_word))
        natural[col.key] = widest
        if col.fit == "full":
            need[col.key] = widest
        else:
            floor = max(header_word, min(word, col.min_width) if col.fit == "wrap" else 1)
            need[col.key] = min(widest, max(floor, min(widest, col.min_width)))
    # Narrow: a column with nothing in it (no next attempt anywhere) gives its room away.
    kept = [
        c for c in columns if width >= WIDE or any(t.plain.strip() for t in cells[c.key])
    ] or list(columns[:1])
    dropped: list[Column] = []
    while sum(need[c.key] for c in kept) + _overhead(len(kept), width) > width and any(
        c.drop for c in kept
    ):
        worst = max((c for c in kept if c.drop), key=lambda c: c.drop)
        kept.remove(worst)
        dropped.append(worst)
    widths = {c.key: need[c.key] for c in kept}
    spare = width - sum(widths.values()) - _overhead(len(kept), width)
    flex = [c for c in kept if c.fit != "full" and natural[c.key] > widths[c.key]]
    wants = {c.key: natural[c.key] - widths[c.key] for c in flex}
    total = sum(wants.values())
    if spare > 0 and total:
        for c in flex:
            widths[c.key] += min(wants[c.key], spare * wants[c.key] // total)
    return [(c, widths[c.key]) for c in kept], dropped


def print_table(
    console: Console,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    lines: bool = False,
    title: str | None = None,
) -> None:
    """``rows`` as a table that fits ``console``'s width (see the module's docstring)."""
    from rich import box
    from rich.table import Table

    cells = {c.key: [cell_text(r.get(c.key)) for r in rows] for c in columns}
    width = console.width
    kept, dropped = fit_columns(columns, cells, width)
    wide = width >= WIDE
    table = Table(
        box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD,
        show_lines=lines and wide,
        title=title,
        title_justify="left",
        show_edge=wide,  # narrow: no edges, one space of padding and one of rule between cells
        pad_edge=wide,
        collapse_padding=not wide,
    )
    for col, need in kept:
        table.add_column(
            col.title,
            justify=col.justify,
            style=col.style,
            no_wrap=col.fit != "wrap",
            overflow="ellipsis" if col.fit == "cut" else "fold",
            width=need,
        )
    for i in range(len(rows)):
        table.add_row(*(cells[col.key][i] for col, _ in kept), end_section=lines and not wide)
    console.print(table)
    if dropped:
        names = ", ".join(c.title for c in dropped)
        console.print(
            f"(not shown at {width} columns: {names}; widen the terminal or use --format json)",
            style="dim",
            markup=False,
            highlight=False,
        )
