"""Three ways to index Chinese for full-text search, side by side: recall, size, speed.

    python benchmarks/cjk_index.py [--articles 50000]

1. **bigrams** (what tracker does): each run of Han characters becomes its overlapping character
   pairs in a shadow form of the text (``textnorm.index_form``), indexed by unicode61; a query is
   the phrase of its own pairs, and a single character is a prefix query on the pairs.
2. **trigram**: SQLite's trigram tokenizer on the text; a query of 3+ characters is a trigram
   phrase, a query of 1-2 characters falls back to a scan with ``instr`` (trigram cannot match it,
   and SQLite 3.40's trigram ``LIKE`` returns no rows for fewer than 3 characters).
3. **jieba**: the text segmented into words by jieba (its bundled dictionary, search mode), the
   words indexed by unicode61; a query is the phrase of jieba's segmentation of it.

All three index the same folded text (simplified script, lower case), so the comparison is about
segmentation only. Recall is measured on the labelled Chinese queries of tests/data/search (the
exact ones, without vocabulary expansion) plus hard cases written here; speed and size on N
generated Chinese articles (the generator of benchmarks/search.py).
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import jieba

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import articles

from tracker.textnorm import HAN_RE, fold, index_form

HERE = Path(__file__).resolve().parent
# Cases the labelled set lacks: model numbers glued to Han text, one-character materials,
# words jieba joins into longer ones.
HARD = [
    ("英伟达H20芯片获得出口许可", ["H20", "芯片", "英伟达"]),
    ("镓和锗的出口量下降", ["镓", "锗"]),
    ("商务部将对砷化镓实施出口管制", ["镓", "出口管制", "砷化镓"]),
    ("美国扩大对华半导体出口管制措施", ["出口管制", "半导体", "管制"]),
    ("华为海思麒麟芯片供应恢复", ["华为", "海思", "芯片"]),
    ("中芯国际获得部分许可证", ["中芯国际", "许可证", "许可"]),
]


def han(text: str) -> bool:
    return bool(HAN_RE.search(text))


class Design:
    def __init__(
        self,
        name: str,
        tokenize: str,
        doc: Callable[[str], str],
        query: Callable[[sqlite3.Connection, str], list[int]],
    ) -> None:
        self.name, self.tokenize, self.doc, self.query = name, tokenize, doc, query


def _phrase(words: list[str]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def q_bigram(conn: sqlite3.Connection, q: str) -> list[int]:
    tokens = index_form(q).split()
    expr = _phrase(tokens) + (" *" if len(tokens) == 1 and len(tokens[0]) == 1 else "")
    return [r[0] for r in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", [expr])]


def q_trigram(conn: sqlite3.Connection, q: str) -> list[int]:
    folded = fold(q)
    if len(folded) >= 3:
        return [
            r[0] for r in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", [_phrase([folded])])
        ]
    # A scan. (SQLite 3.40's trigram LIKE with fewer than 3 characters returns no rows at all.)
    return [r[0] for r in conn.execute("SELECT rowid FROM docs WHERE instr(body, ?) > 0", [folded])]


def seg(text: str) -> str:
    return " ".join(w for w in jieba.cut_for_search(fold(text)) if w.strip())


def q_jieba(conn: sqlite3.Connection, q: str) -> list[int]:
    words = [w for w in jieba.cut(fold(q)) if w.strip()]
    return [r[0] for r in conn.execute("SELECT rowid FROM t WHERE t MATCH ?", [_phrase(words)])]


DESIGNS = [
    Design("bigrams (tracker)", "unicode61", index_form, q_bigram),
    Design("trigram + scan for 1-2 chars", "trigram", fold, q_trigram),
    Design("jieba words", "unicode61", seg, q_jieba),
]


def table(design: Design, texts: list[str]) -> tuple[sqlite3.Connection, float, int]:
    conn = sqlite3.connect(":memory:")
    # Contentless, as tracker's own index: the size is the index alone. The folded text for the
    # trigram design's scan is kept in a plain table beside it (the articles table, in tracker).
    conn.execute(
        f"CREATE VIRTUAL TABLE t USING fts5(body, content='', tokenize = '{design.tokenize}')"
    )
    conn.execute("CREATE TABLE docs (rowid INTEGER PRIMARY KEY, body TEXT)")
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO t (rowid, body) VALUES (?, ?)",
        ((i, design.doc(text)) for i, text in enumerate(texts, 1)),
    )
    if design.tokenize == "trigram":
        conn.executemany(
            "INSERT INTO docs (rowid, body) VALUES (?, ?)",
            ((i, fold(text)) for i, text in enumerate(texts, 1)),
        )
    conn.execute("INSERT INTO t (t) VALUES ('optimize')")
    seconds = time.perf_counter() - started
    size = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 't\\_%' ESCAPE '\\'"
    ).fetchone()[0]
    return conn, seconds, int(size or 0)


def recall_cases() -> tuple[list[str], list[tuple[str, set[int]]]]:
    data = HERE.parent / "tests" / "data" / "search"
    corpus = tomllib.loads((data / "corpus.toml").read_text("utf-8"))["article"]
    queries = tomllib.loads((data / "queries.toml").read_text("utf-8"))["query"]
    texts = [f"{a['title']}\n{a['text']}" for a in corpus]
    row = {a["id"]: i for i, a in enumerate(corpus, 1)}
    cases = [
        (q["q"], {row[e] for e in q["expect"]}) for q in queries if q.get("exact") and han(q["q"])
    ]
    for text, words in HARD:
        texts.append(text)
        cases += [(w, {len(texts)}) for w in words]
    return texts, cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    texts, cases = recall_cases()
    print(f"recall: {len(cases)} Chinese queries of 1-4 characters, exact words")
    for design in DESIGNS:
        conn, _, _ = table(design, texts)
        found = sum(len(set(design.query(conn, q)) & want) for q, want in cases)
        total = sum(len(want) for _, want in cases)
        missed = [q for q, want in cases if not want <= set(design.query(conn, q))]
        print(f"  {design.name}: {found}/{total} = {found / total:.3f}; missed: {missed}")

    gen = [a for a in articles(args.articles * 2, seed=5) if a.lang and a.lang.startswith("zh")]
    corpus = [f"{a.title}\n{a.text}" for a in gen[: args.articles]]
    raw = sum(len(t.encode()) for t in corpus)
    words = [
        "镓",
        "芯片",
        "华为",
        "稀土",
        "出口管制",
        "实体清单",
        "半导体",
        "英伟达",
        "许可证",
        "管制",
    ]
    print(f"\n{len(corpus):,} generated Chinese articles, {raw / 1e6:.0f} MB of text")
    print("| design | build s | index / text | median query ms | slowest query |")
    print("| --- | ---: | ---: | ---: | --- |")
    for design in DESIGNS:
        conn, seconds, size = table(design, corpus)
        times = {}
        for w in words:
            design.query(conn, w)
            started = time.perf_counter()
            design.query(conn, w)
            times[w] = (time.perf_counter() - started) * 1000
        slow = max(times, key=lambda k: times[k])
        print(
            f"| {design.name} | {seconds:.1f} | {size / raw:.2f}x | "
            f"{statistics.median(times.values()):.1f} | {slow} {times[slow]:.0f} ms |"
        )
        conn.close()


if __name__ == "__main__":
    main()
