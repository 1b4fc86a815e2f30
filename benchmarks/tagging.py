"""Tagging speed: the Aho-Corasick tagger against one compiled regex per alias, on the same text.

    python benchmarks/tagging.py [--mb 50]

Documents (about 3 KB each: English, simplified and traditional Chinese, with vocabulary terms
among ordinary words) are generated up front; both taggers then run on one core over the same
documents. The baseline knows every alias in every script and case-folds with re.IGNORECASE, but
has no context rules, so it does less work than the real tagger.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pages import EN_TERMS, EN_WORDS, ZH_CHARS, ZH_TERMS

from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import load_vocabulary

HANT_CHARS = (
    "美國商務部表示新的規定將要求向中國出口先進晶片和製造設備須申請許可證"
    "官員補充說被列入清單的企業將面臨推定拒絕"
)
HANT_TERMS = [
    "輝達",
    "華為",
    "實體清單",
    "出口管制",
    "稀土",
    "鎵",
    "中芯國際",
    "台積電",
    "超微",
    "川普",
]


def document(rnd: random.Random) -> tuple[str, str]:
    kind = rnd.randrange(3)
    if kind == 0:
        words = [rnd.choice(EN_WORDS) for _ in range(480)]
        for _ in range(6):
            words.insert(rnd.randrange(len(words)), rnd.choice(EN_TERMS))
        return " ".join(words[:10]), " ".join(words) + "."
    chars, terms = (ZH_CHARS, ZH_TERMS) if kind == 1 else (HANT_CHARS, HANT_TERMS)
    parts = ["".join(rnd.choice(chars) for _ in range(120)) + "。" for _ in range(8)]
    for _ in range(6):
        i = rnd.randrange(len(parts))
        parts[i] = parts[i][:30] + rnd.choice(terms) + parts[i][30:]
    return parts[0][:20], "".join(parts)


def regex_loop(aliases: list[str]):  # type: ignore[no-untyped-def]
    """The simplest alternative: one regex per alias, each run over the whole text."""
    compiled = []
    for alias in aliases:
        pattern = re.escape(alias)
        if alias[0].isascii() and alias[0].isalnum():
            pattern = r"\b" + pattern + r"\b"
        compiled.append(re.compile(pattern, re.IGNORECASE))

    def tag(title: str, text: str) -> set[int]:
        found = set()
        for i, rx in enumerate(compiled):
            if rx.search(title) or rx.search(text):
                found.add(i)
        return found

    return tag


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=50.0)
    args = parser.parse_args()
    rnd = random.Random(7)
    docs: list[tuple[str, str]] = []
    size = 0
    while size < args.mb * 1_000_000:
        title, text = document(rnd)
        docs.append((title, text))
        size += len(title.encode()) + len(text.encode())
    mb = size / 1_000_000
    entries = load_vocabulary()
    started = time.perf_counter()
    tagger = Tagger(entries)
    build = time.perf_counter() - started
    aliases = sorted(
        {a for e in entries for a in (*e.aliases, *e.cased, *(c.alias for c in e.context))}
    )
    baseline = regex_loop(aliases)

    started = time.perf_counter()
    tagged = sum(len(tagger.tag(t, x)) for t, x in docs)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    found = sum(len(baseline(t, x)) for t, x in docs)
    theirs = time.perf_counter() - started

    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}, one core; "
        f"{len(docs)} documents, {mb:.1f} MB, {len(entries)} entries, {len(aliases)} aliases"
    )
    print("| tagger | seconds | MB/s | tags found |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| Aho-Corasick (tracker, built in {build * 1000:.0f} ms) | {ours:.1f} | {mb / ours:.1f} | {tagged} |"
    )
    print(f"| one regex per alias, looped | {theirs:.1f} | {mb / theirs:.1f} | {found} |")
    print(
        f"\nspeed-up: {theirs / ours:.1f}x (goal >= 10x); tracker {mb / ours:.1f} MB/s (goal >= 20)"
    )


if __name__ == "__main__":
    main()
