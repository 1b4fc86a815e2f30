"""Stories at scale: full rebuild time and memory, and the per-article cost of incremental placement.

    python benchmarks/stories.py [--articles 100000] [--db PATH]

Generates N articles over 30 days through the real save path (tagging and search index included,
not timed): events reported by one to eight outlets, as syndicated copies (the original's text
between an outlet's boilerplate), English rewrites and Chinese translations that keep the event's
names and figures, among stories nobody else carried. Then, each in a fresh child process so its
peak memory is its own:

1. ``rebuild``: every article placed from scratch, in memory, then written in one transaction;
2. ``incremental``: 1,000 further articles saved, then placed one by one (``place_pending``), as a
   fetch does; reported per article, with the rebuild's own per-article cost for comparison.

Both run twice on copies of one generated store, side by side: with the rules before issue 16
(``[stories] names = false``) and with the names rule.

Also prints pairwise precision and recall, for both rule sets, on the labelled set in
tests/data/stories, on the held-out set in benchmarks/data/stories-holdout (written after the
rules of issue 6 were frozen) and on the general-news set in tests/data/stories-general (issue 16).
Goal (issue 6): rebuild <= 60 s, incremental <= 5 ms per article, peak memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker.config.stories import StoryRules
from tracker.models import Article
from tracker.store import Store
from tracker.stories.evaluate import evaluate, load_labelled
from tracker.stories.place import place_pending
from tracker.stories.rebuild import rebuild
from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import load_vocabulary

NOW = datetime(2026, 11, 30, tzinfo=UTC)
START = NOW - timedelta(days=30)
HERE = Path(__file__).resolve().parent

SUBJECTS_EN = [
    ("Nvidia", "H20"),
    ("Nvidia", "H200"),
    ("AMD", "MI308"),
    ("ASML", "DUV"),
    ("Tokyo Electron", "etch tools"),
    ("SMIC", "Entity List"),
    ("Huawei", "Ascend"),
    ("Applied Materials", "affiliates rule"),
    ("Samsung", "VEU"),
    ("SK Hynix", "HBM"),
    ("MOFCOM", "gallium"),
    ("MOFCOM", "rare earths"),
]
SUBJECTS_ZH = {
    "Nvidia": "英伟达",
    "AMD": "超威半导体",
    "ASML": "阿斯麦",
    "Tokyo Electron": "东京电子",
    "SMIC": "中芯国际",
    "Huawei": "华为",
    "Applied Materials": "应用材料",
    "Samsung": "三星",
    "SK Hynix": "SK海力士",
    "MOFCOM": "商务部",
    "H20": "H20",
    "H200": "H200",
    "MI308": "MI308",
    "DUV": "DUV光刻机",
    "etch tools": "刻蚀设备",
    "Entity List": "实体清单",
    "Ascend": "昇腾",
    "affiliates rule": "50%规则",
    "VEU": "VEU",
    "HBM": "HBM",
    "gallium": "镓",
    "rare earths": "稀土",
}
WORDS = re.findall(
    r"\S+",
    "the commerce department said officials would require licences exports advanced chips "
    "equipment china companies analysts expect suppliers guidance revenue markets quarter "
    "orders customers factory memory wafer shipments controls review policy industry security "
    "bureau rule statement week talks trade deal ministry investors shares fell rose forecast "
    "demand data centre cloud military users network diversion smuggling court penalty "
    "settlement audit compliance programme distributor spokesperson response measures countries "
    "allies netherlands japan korea taiwan singapore malaysia approval application capacity "
    "output plant engineers",
)
HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"  # noqa: E501
OUTLETS = [f"outlet-{i:02d}" for i in range(40)]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _han(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HAN) for _ in range(n))


def _event(rng: random.Random, i: int) -> dict[str, object]:
    company, thing = rng.choice(SUBJECTS_EN)
    figures = [str(rng.randint(11, 999)), f"{rng.randint(2, 60)}%"]
    body = " ".join(_sentence(rng, rng.randint(12, 24)) for _ in range(rng.randint(6, 10)))
    text = (
        f"{company} and the {thing} were at the centre of the news as {figures[0]} firms were named "
        f"and {figures[1]} of revenue was at stake. {body}"
    )
    return {"id": i, "company": company, "thing": thing, "figures": figures, "text": text}


def articles(n: int, seed: int = 6) -> Iterator[Article]:
    """N articles: events with 1-8 members (copy, rewrite, translation), spread over 30 days."""
    rng = random.Random(seed)
    made = 0
    i = 0
    while made < n:
        i += 1
        event = _event(rng, i)
        at = START + timedelta(seconds=rng.randint(0, 30 * 86400 - 80_000))
        size = 1 if rng.random() < 0.6 else rng.randint(2, 8)
        for member in range(min(size, n - made)):
            outlet = rng.choice(OUTLETS)
            when = at + timedelta(minutes=rng.randint(0, 60 * 48) if member else 0)
            url = f"https://{outlet}.example/{i}/{member}"
            company, thing = str(event["company"]), str(event["thing"])
            figures = list(event["figures"])  # type: ignore[call-overload]
            kind = "original" if member == 0 else rng.choice(["copy", "copy", "rewrite", "zh"])
            if kind == "original":
                title, text, lang = (
                    f"{company} {thing} {_sentence(rng, 5)}",
                    str(event["text"]),
                    "en",
                )
            elif kind == "copy":
                title = f"{_sentence(rng, 6)} {company}"
                text = (
                    f"{outlet} news desk. {event['text']} Read more at {outlet}. Subscribe today."
                )
                lang = "en"
            elif kind == "rewrite":
                title = f"{company} {thing}: {_sentence(rng, 6)}"
                text = (
                    f"{company} was in focus over the {thing}; {figures[0]} firms named, "
                    f"{figures[1]} of revenue at stake. "
                    + " ".join(_sentence(rng, 15) for _ in range(6))
                )
                lang = "en"
            else:
                zc, zt = SUBJECTS_ZH[company], SUBJECTS_ZH[thing]
                title = f"{zc}{zt}{_han(rng, 10)}"
                text = (
                    f"{zc}与{zt}：{figures[0]}家企业被点名，{figures[1]}的收入受影响。"
                    + "".join(_han(rng, 40) + "。" for _ in range(8))
                )
                lang = "zh-Hans"
            yield Article(
                url=url,
                source=outlet,
                title=title,
                text=text,
                published_at=when,
                lang=lang,
                extracted=True,
            )
            made += 1


def build(path: Path, n: int, tagger: Tagger, seed: int) -> float:
    started = time.perf_counter()
    store = Store.open(path)
    batch: list[tuple[Article, list[object]]] = []
    for a in articles(n, seed):
        batch.append((a, tagger.tag(a.title, a.text, a.lang)))  # type: ignore[arg-type]
        if len(batch) == 2000:
            store.save_batch("bench", batch, now=NOW)  # type: ignore[arg-type]
            batch.clear()
    if batch:
        store.save_batch("bench", batch, now=NOW)  # type: ignore[arg-type]
    store.close()
    return time.perf_counter() - started


RULES = {"old": replace(StoryRules(), names=False), "new": StoryRules()}


def child(mode: str, db: Path, rules_name: str) -> None:
    """One measurement in this (fresh) process; prints a JSON line."""
    store = Store.open(db)
    rules = RULES[rules_name]
    started = time.perf_counter()
    if mode == "rebuild":
        report = rebuild(store, rules, now=NOW)
        placed = report.placed
    else:
        report = place_pending(store, rules, now=NOW)
        placed = report.placed
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stories = store.db.conn.execute("SELECT count(*), max(size) FROM stories").fetchone()
    precision, recall = pairwise(store)
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": seconds,
                "placed": placed,
                "joined": report.joined,
                "merged": report.merged,
                "reasons": report.reasons,
                "peak_mb": peak,
                "stories": stories[0],
                "largest": stories[1],
                "precision": precision,
                "recall": recall,
            }
        )
    )


def pairwise(store: Store) -> tuple[float, float]:
    """Pairwise precision and recall against the generator's events (the URL's path says which)."""
    cells: Counter[tuple[int, str]] = Counter()
    for url, story in store.db.conn.execute("SELECT url, story_id FROM articles"):
        event = "/".join(url.split("/")[3:-1])  # "12" or "new/12"
        cells[(story, event)] += 1
    by_story: Counter[int] = Counter()
    by_event: Counter[str] = Counter()
    for (story, event), n in cells.items():
        by_story[story] += n
        by_event[event] += n

    def pairs(n: int) -> int:
        return n * (n - 1) // 2

    tp = sum(pairs(n) for n in cells.values())
    found = sum(pairs(n) for n in by_story.values())
    true = sum(pairs(n) for n in by_event.values())
    return (tp / found if found else 1.0), (tp / true if true else 1.0)


def run_child(mode: str, db: Path, rules: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(db), "--rules", rules],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--incremental", type=int, default=1_000)
    parser.add_argument("--db", type=Path, help="keep the generated store here")
    parser.add_argument("--child", choices=["rebuild", "incremental"], help=argparse.SUPPRESS)
    parser.add_argument("--rules", choices=list(RULES), default="new", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.rules)
        return
    tagger = Tagger(load_vocabulary())
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {NOW:%Y-%m-%d}")

    sets = {
        "labelled set": HERE.parent / "tests" / "data" / "stories",
        "held-out set": HERE / "data" / "stories-holdout",
        "general news": HERE.parent / "tests" / "data" / "stories-general",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for (name, directory), mode, rules_name in itertools.product(
            sets.items(), ("incremental", "rebuild"), RULES
        ):
            labelled = load_labelled(directory)
            store = Store.open(Path(tmp) / f"{name}-{mode}-{rules_name}.db")
            score = evaluate(labelled, store, tagger, RULES[rules_name], now=NOW, mode=mode, seed=3)
            print(
                f"{name} ({mode}, {rules_name} rules): {score.articles} articles, pairwise "
                f"precision {score.precision:.3f}, recall {score.recall:.3f} "
                f"(tp {score.tp}, fp {score.fp}, fn {score.fn})"
            )
            store.close()

    with tempfile.TemporaryDirectory() as tmp:
        base = args.db or Path(tmp) / "stories.db"
        if not base.exists():
            print(f"generating {args.articles:,} articles ...", flush=True)
            print(
                f"  built in {build(base, args.articles, tagger, seed=6):.0f} s (not timed below)"
            )
        results = {}
        for rules_name in RULES:  # each on its own copy of the same store
            db = Path(tmp) / f"stories-{rules_name}.db"
            shutil.copyfile(base, db)
            full = run_child("rebuild", db, rules_name)
            # New articles: more of the same generator, from a different seed, saved unplaced.
            store = Store.open(db)
            extra = [
                (a, tagger.tag(a.title, a.text, a.lang))
                for a in articles(args.incremental, seed=99)
            ]
            for a, _ in extra:
                a.url = a.url.replace(".example/", ".example/new/")
            store.save_batch("bench", extra, now=NOW)
            store.close()
            inc = run_child("incremental", db, rules_name)
            size = db.stat().st_size / 2**20
            db.unlink()
            results[rules_name] = (full, inc, size)

    print()
    print("| rules | run | articles | seconds | ms per article | peak MB | stories | joined |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for rules_name, (full, inc, _) in results.items():
        per_rebuild = float(full["seconds"]) / int(full["placed"]) * 1000  # type: ignore[arg-type, call-overload]
        per_inc = float(inc["seconds"]) / int(inc["placed"]) * 1000  # type: ignore[arg-type, call-overload]
        print(
            f"| {rules_name} | full rebuild | {full['placed']:,} | {full['seconds']:.1f} | "
            f"{per_rebuild:.2f} | {full['peak_mb']:.0f} | {full['stories']:,} | {full['joined']:,} |"
        )
        print(
            f"| {rules_name} | incremental (place_pending) | {inc['placed']:,} | "
            f"{inc['seconds']:.2f} | {per_inc:.2f} | {inc['peak_mb']:.0f} | - | {inc['joined']:,} |"
        )
    for rules_name, (full, inc, size) in results.items():
        print(
            f"\n{rules_name} rules: join reasons in the rebuild {full['reasons']}; largest story "
            f"{full['largest']}; store after both runs {size:,.0f} MiB"
        )
        print(
            f"  generated events, pairwise: after the rebuild precision {full['precision']:.3f}, "
            f"recall {full['recall']:.3f}; after the incremental run precision "
            f"{inc['precision']:.3f}, recall {inc['recall']:.3f}"
        )
    old_full, old_inc, _ = results["old"]
    new_full, new_inc, _ = results["new"]
    print(
        f"\nnew / old: rebuild {float(new_full['seconds']) / float(old_full['seconds']):.2f}x, "  # type: ignore[arg-type]
        f"incremental {float(new_inc['seconds']) / float(old_inc['seconds']):.2f}x"  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
