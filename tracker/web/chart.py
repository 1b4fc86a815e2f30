"""Tag trends drawn as SVG on the server: no chart library, no script, works offline, and the
same numbers sit in a table under it for keyboards and screen readers."""

from __future__ import annotations

from dataclasses import dataclass

# Colour-blind-safe (Okabe-Ito), dark enough on white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
WIDTH, HEIGHT = 480, 220
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 10, 26


@dataclass(frozen=True)
class Line:
    tag: str
    colour: str
    points: str  # SVG polyline points, "x,y x,y ..."
    total: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[tuple[float, int]]  # (y, value)
    x_ticks: list[tuple[float, str, str]]  # (x, period, text-anchor)
    baseline: float
    left: int = LEFT
    right: int = RIGHT


def line_chart(series: dict[str, list[tuple[str, int]]]) -> Chart:
    """Each tag's counts per period as a polyline on a shared scale; about five ticks a side."""
    periods = [p for p, _ in next(iter(series.values()), [])]
    top = max([n for points in series.values() for _, n in points] or [0]) or 1
    step = _nice_step(top)
    ceiling = step * -(-top // step)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base = TOP + inner_h

    def x(i: int) -> float:
        return LEFT + (inner_w * i / (len(periods) - 1) if len(periods) > 1 else inner_w / 2)

    def y(n: int) -> float:
        return base - inner_h * n / ceiling

    lines = [
        Line(
            tag,
            COLOURS[k % len(COLOURS)],
            " ".join(f"{x(i):.1f},{y(n):.1f}" for i, (_, n) in enumerate(points)),
            sum(n for _, n in points),
        )
        for k, (tag, points) in enumerate(series.items())
    ]
    every = max(1, -(-len(periods) // 6))
    last = len(periods) - 1
    # the labels at the edges are anchored inside the chart, so none is cut off
    x_ticks = [
        (x(i), p, "start" if i == 0 and last else "end" if i == last else "middle")
        for i, p in enumerate(periods)
        if i % every == 0
    ]
    y_ticks = [(y(v), v) for v in range(0, ceiling + 1, step)]
    return Chart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, base)


def _nice_step(top: int) -> int:
    """1, 2 or 5 times a power of ten, giving at most five steps up to ``top``."""
    power = 1
    while True:
        for m in (1, 2, 5):
            if top / (m * power) <= 5:
                return m * power
        power *= 10
