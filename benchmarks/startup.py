"""Start-up: `tracker --help` and `tracker search QUERY` as whole processes, against `python -c pass`.

Builds a store of generated articles (benchmarks/search.py's generator), then runs each command
as a fresh process, the commands interleaved round by round so that a noisy neighbour slows all of
them alike, and reports medians and their ratio to the interpreter's own start. The output goes to
a pipe (as in a script); the table format is the default, so rich is loaded as a user's search
loads it. Nothing samples inside the measured processes: each is timed from outside.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from search import build

from tracker.store import Store


def commands(db: Path) -> dict[str, list[str]]:
    tracker = [sys.executable, "-m", "tracker", "--db", str(db)]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tracker --help": [*tracker, "--help"],
        "tracker search nvidia": [*tracker, "search", "nvidia"],
        "tracker search 'entity list' -f json": [*tracker, "search", "entity list", "-f", "json"],
        "tracker search 出口管制 --since 30d": [*tracker, "search", "出口管制", "--since", "30d"],
    }


def time_commands(
    runs: dict[str, list[str]], rounds: int, env: dict[str, str]
) -> dict[str, list[float]]:
    """Seconds per run of each command, whole process, round by round (interleaved)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for argv in runs.values():  # warm the page cache once
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    for _ in range(rounds):
        for name, argv in runs.items():
            started = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - started)
    return times


def table(times: dict[str, list[float]], base: str) -> list[str]:
    """Markdown rows: median, p90, and the difference and ratio to the ``base`` command."""
    zero = statistics.median(times[base])
    rows = [
        "| command | median ms | p90 ms | minus `python -c pass` ms | vs `python -c pass` |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, values in times.items():
        med = statistics.median(values)
        p90 = statistics.quantiles(values, n=10)[-1]
        rows.append(
            f"| `{name}` | {med * 1000:.0f} | {p90 * 1000:.0f} | {(med - zero) * 1000:.0f} "
            f"| {med / zero:.2f}x |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--db", type=Path, help="keep the store here (default: a temporary file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "startup.db"
        if not db.exists():
            store = Store.open(db)
            build(store, args.articles)
            store.optimize()
            store.close()
        # No config file: the commands run on their defaults, as a first search does.
        env = {**os.environ, "TRACKER_CONFIG": str(Path(tmp) / "absent.toml")}
        times = time_commands(commands(db), args.rounds, env)
    print(f"{args.articles} articles, {args.rounds} rounds, whole processes, output to a pipe")
    print("\n".join(table(times, "python -c pass")))


if __name__ == "__main__":
    main()
