"""Placement of near-identical articles: does it stay linear? (issue 11, defect 5)

    python benchmarks/placement.py [--sizes 500,1000,2000,10000]

For each size N, a fresh store gets N near-identical copies of one wire report (a feed that lists
the same story under many URLs, each with a different sentence appended), saved through the real
save path (not timed); then ``place_pending`` places them all (timed), each size in a fresh child
process. Linear placement shows as a flat time per article across sizes; the report gives each size's
per-article time as a ratio to the smallest size's. Before the fix, 500 -> 5.7 s, 1,000 -> 18.7 s,
2,000 -> 73 s (each join re-read every member's signature, and each copy compared with every copy).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker.config.stories import StoryRules
from tracker.models import Article
from tracker.store import Store
from tracker.stories.place import place_pending

NOW = datetime(2026, 11, 30, tzinfo=UTC)
BODY = (
    "The Bureau of Industry and Security added 23 companies to the Entity List on Tuesday, citing "
    "their support for advanced chipmaking, and said exporters will need a licence for items "
    "subject to the regulations, reviewed under a presumption of denial. "
) * 4


def child(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        batch = [
            (
                Article(
                    url=f"https://wire.example/copy/{i}",
                    source="wire",
                    title="US adds 23 Chinese firms to the Entity List",
                    text=BODY + f"Copy number {i} was filed by desk {i % 17}.",
                    published_at=NOW - timedelta(seconds=size - i),
                    lang="en",
                    extracted=True,
                ),
                [],
            )
            for i in range(size)
        ]
        for start in range(0, size, 1000):
            store.save_batch("wire", batch[start : start + 1000], now=NOW)
        began = time.perf_counter()
        report = place_pending(store, StoryRules(), now=NOW)
        seconds = time.perf_counter() - began
        stories = store.count("stories")
        store.close()
    return {"size": size, "seconds": seconds, "placed": report.placed, "stories": stories}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000,10000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print("| copies | place s | ms per article | per-article vs smallest | stories |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    base = None
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout)
        per = row["seconds"] / size * 1000
        base = base or per
        print(
            f"| {size:,} | {row['seconds']:.2f} | {per:.2f} | {per / base:.2f}x | {row['stories']} |"
        )


if __name__ == "__main__":
    main()
