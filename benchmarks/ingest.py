"""Ingest benchmark: the whole pipeline against trafilatura alone, on the same generated pages.

    python benchmarks/ingest.py [--pages 2000]

Each measurement runs in a fresh child process. Peak memory is sampled from /proc for that process
plus its extraction workers (the baseline holds all pages in memory, so its figure is not comparable).
The page server is another process. Results are printed as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from pages import page, start_server


def cpu_seconds() -> float:
    """CPU seconds of this process and its reaped children (the extraction pool)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return kids


class TreeMemory:
    """Samples the resident memory of this process plus its children every 20 ms; keeps the peak.

    (ru_maxrss would overstate spawned workers: a child forked before exec inherits the parent's
    resident size in its own maximum.)
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total = _rss_kb(me) + sum(_rss_kb(k) for k in _children(me))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(0.02)


def run_pipeline(base: str, pages: int, workers: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tracker.config.load import Settings
    from tracker.ingest.http import Fetcher, make_session
    from tracker.ingest.pipeline import run_fetch
    from tracker.models import Source
    from tracker.store import Store
    from tracker.tagging.tagger import Tagger
    from tracker.tagging.vocabulary import load_vocabulary

    settings = Settings(min_interval=0.0)  # loopback: no politeness delay to measure
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        tagger = Tagger(load_vocabulary())
        source = Source("bench", "rss", f"{base}/feed.xml", options={"fetch_articles": True})
        before = cpu_seconds()
        with TreeMemory() as memory:
            started = time.perf_counter()
            fetcher = Fetcher(make_session(settings), settings)
            report = run_fetch(store, fetcher, [source], tagger, extract_workers=workers)
            elapsed = time.perf_counter() - started
        assert report.sources[0].new == pages, report.sources[0]
        peak = max(memory.peak_kb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
        out.put(
            {
                "seconds": elapsed,
                "cpu": cpu_seconds() - before,
                "peak_mb": peak,
                "stories_s": report.stories.seconds,
            }
        )


def run_extraction(pages: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tracker.ingest.extract import run_trafilatura

    htmls = [page(i) for i in range(pages)]  # generated up front, outside the clock
    before = cpu_seconds()
    started = time.perf_counter()
    for i, html in enumerate(htmls):
        run_trafilatura(html, f"http://127.0.0.1/a/{i}")
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put({"seconds": elapsed, "cpu": cpu_seconds() - before, "peak_mb": peak})


def measure(target, *args):  # type: ignore[no-untyped-def]
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    proc = multiprocessing.Process(target=target, args=(*args, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=1)
            break
        except Exception:  # queue.Empty: is the child still alive?
            if not proc.is_alive():
                raise SystemExit(f"{target.__name__} died with exit code {proc.exitcode}") from None
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    cores = multiprocessing.cpu_count()
    pool = min(cores, 4)
    server, base = start_server(args.pages)
    try:
        pooled = measure(run_pipeline, base, args.pages, pool)
        single = measure(run_pipeline, base, args.pages, 1)
    finally:
        server.terminate()
    extraction = measure(run_extraction, args.pages)
    print(
        f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}; "
        f"{args.pages} pages served from loopback by another process"
    )
    print("| run | wall s | articles/s | CPU s | wall vs baseline | CPU vs baseline | peak MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = (
        (f"pipeline, extraction pool of {pool} (default)", pooled),
        ("pipeline, extraction in-process", single),
        ("trafilatura extraction alone (baseline)", extraction),
    )
    for name, r in rows:
        print(
            f"| {name} | {r['seconds']:.1f} | {args.pages / r['seconds']:.0f} | {r['cpu']:.1f} | "
            f"{r['seconds'] / extraction['seconds']:.2f}x | {r['cpu'] / extraction['cpu']:.2f}x | "
            f"{r['peak_mb']:.0f} |"
        )
    for name, r in rows[:2]:
        placing = r["stories_s"]
        print(
            f"\n{name}: story placement took {placing:.1f} s of it; without it the wall ratio "
            f"would be {(r['seconds'] - placing) / extraction['seconds']:.2f}x"
        )


if __name__ == "__main__":
    main()
