"""Entities at scale: a 30,000-entry screening list linked to a 1M-article store.

    python benchmarks/entities.py [--articles 1000000] [--entries 30000] [--db PATH]

Builds (or reuses, with --db) a store of N generated articles (benchmarks/search.py's generator,
tagged and placed in stories) in which one article in 50 names a list entry, in English
("Example Trading Company 123 Limited") or in Chinese (示例贸易123); some name entries that
only the changed list adds. Then, on a copy of that store, each step is a whole `tracker`
process timed from outside, its peak memory read by the parent after it exits (nothing samples
inside it):

1. the list's first snapshot: entries stored, entities built, every article read once for names;
2. the same file again: one 304, nothing to link;
3. the changed file (300 added, 300 revised, 300 removed): the diff, then the new names looked
   for in the stored articles through the full-text index;
4. `tracker entity NAME` for four kinds of entity, as a whole process and its query time alone
   (in a separate process: the store's own functions, median of 5 after one warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lists import make_csv, run, setup, stats
from search import NOW, articles

from tracker.config.stories import StoryRules
from tracker.models import Article
from tracker.store import Store
from tracker.stories.rebuild import rebuild
from tracker.tagging.tagger import Tagger, relevance
from tracker.tagging.vocabulary import load_vocabulary

QUERY = """
import json, statistics, sys, time
from pathlib import Path
from tracker.record.names import name_keys
from tracker.store import Store
from tracker.stories.rebuild import rebuild
from tracker.store import entities as db

store = Store.open(Path(sys.argv[1]), readonly=True)
out = {}
for name in sys.argv[2:]:
    def ask():
        found = db.find_entities(store, name.lower(), name_keys([name]))
        n = 0
        for e in found:
            db.entity_entries(store, e["id"])
            ids = db.entity_article_ids(store, e["id"], e["tag"], 10, "en")
            ids += db.entity_article_ids(store, e["id"], e["tag"], 10, "zh")
            n += len(db.article_briefs(store, ids))
        return n
    ask()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        shown = ask()
        times.append((time.perf_counter() - started) * 1000)
    out[name] = [statistics.median(times), shown]
print(json.dumps(out))
"""


def named_articles(n: int, entries: int, seed: int = 7) -> Iterator[Article]:
    """The search benchmark's articles, one in 50 naming a list entry (some only added later)."""
    rnd = random.Random(seed)
    for i, a in enumerate(articles(n)):
        if i % 50 == 7:
            k = rnd.randrange(entries + entries // 100)
            if a.lang == "en":
                a.text += f" Example Trading Company {k} Limited was named in the rule."
            else:
                a.text += f"示例贸易{k}被列入清单。"
        yield a


def build(path: Path, n: int, entries: int) -> float:
    store = Store.open(path)
    have = store.count()
    if have >= n:
        store.close()
        return 0.0
    tagger = Tagger(load_vocabulary())
    weights = tagger.weights()
    started = time.perf_counter()
    batch = []
    for i, a in enumerate(named_articles(n, entries)):
        if i < have:
            continue
        hits = tagger.tag(a.title, a.text, a.lang)
        a.relevance = relevance(hits, weights)
        batch.append((a, hits))
        if len(batch) == 2000:
            store.save_batch("bench", batch, now=NOW)
            batch = []
        if (i + 1) % 100_000 == 0:
            print(f"  built {i + 1} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    if batch:
        store.save_batch("bench", batch, now=NOW)
    # Stories too, as a real store has them (else the first fetch would place a million).
    rebuild(store, StoryRules(), now=NOW)
    store.optimize()
    store.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=30_000)
    parser.add_argument("--db", type=Path, help="keep the article store here, for reruns")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.db or Path(tmp) / "base.db"
        built = build(base, args.articles, args.entries)
        home, served = Path(tmp) / "home", Path(tmp) / "served"
        home.mkdir()
        served.mkdir()
        work = home / "tracker.db"
        shutil.copyfile(base, work)
        server, port, env = setup(home, served, args.entries)
        tracker = [sys.executable, "-m", "tracker"]
        rows = [
            (
                "first snapshot: store, entities, read every article",
                *run([*tracker, "-q", "fetch"], env)[:2],
            )
        ]
        rows.append(("same file again (304)", *run([*tracker, "-q", "fetch"], env)[:2]))
        answered = stats(port)
        (served / "list.csv").write_bytes(make_csv(args.entries, True))
        rows.append(
            (
                "changed file: 900 changes, new names via the index",
                *run([*tracker, "-q", "fetch"], env)[:2],
            )
        )
        names = ["huawei", "Example Trading Company 12345 Limited", "示例贸易777", "nvidia"]
        for name in names[:2]:
            argv = [*tracker, "entity", name, "-f", "json"]
            rows.append((f"tracker entity {name!r} (whole process)", *run(argv, env)[:2]))
        check = Store.open(work, readonly=True)
        counts = check.db.execute(
            "SELECT (SELECT count(*) FROM entities), (SELECT count(*) FROM article_mentions), "
            "(SELECT count(DISTINCT article_id) FROM article_mentions), (SELECT count(*) FROM articles)"
        ).fetchone()
        check.close()
        query = subprocess.run(
            [sys.executable, "-c", QUERY, str(work), *names],
            capture_output=True,
            text=True,
            check=True,
        )
        server.terminate()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{args.articles} articles (built in {built:.0f} s this run), {args.entries} list entries"
    )
    print("| step | seconds | peak MiB |\n| --- | ---: | ---: |")
    for name, s_, mib in rows:
        print(f"| {name} | {s_:.2f} | {mib:.0f} |")
    print(
        f"entities {counts[0]}, mentions {counts[1]} in {counts[2]} of {counts[3]} articles; "
        f"two fetches of one file: {answered['requests']} requests, {answered['not_modified']} 304"
    )
    print("| entity | query ms (median of 5) | articles shown |\n| --- | ---: | ---: |")
    for name, (ms, shown) in json.loads(query.stdout).items():
        print(f"| {name} | {ms:.1f} | {shown} |")


if __name__ == "__main__":
    main()
