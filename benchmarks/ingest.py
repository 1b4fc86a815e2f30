"""Ingest benchmark: the whole pipeline against trafilatura alone, on the same generated pages.

    python benchmarks/ingest.py [--pages 2000]

Each measurement runs in a fresh child process; this (parent) process samples the child's peak
memory from /proc, with its extraction workers, every 50 ms, so no sampler runs in the measured
process (the in-memory baseline holds every page, so its memory is not comparable). The page
server is another process and shares the cores while the pipeline fetches; the "served" baseline
downloads the same pages from it, so that ratio compares like with like. Results are printed as
a Markdown table for docs/benchmarks.md.
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


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc/PID/task/*/children (no scan of all of /proc)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return out


def sample_peak_kb(proc: multiprocessing.Process, done: threading.Event) -> list[int]:
    """Peak resident memory of ``proc`` and its workers, sampled every 50 ms from this (the
    parent) process, so the measured process runs no sampler of its own.

    (ru_maxrss would overstate spawned workers: a child forked before exec inherits the parent's
    resident size in its own maximum.)
    """
    peak = [0]

    def run() -> None:
        while not done.is_set():
            if proc.pid is not None:
                peak[0] = max(peak[0], sum(_rss_kb(p) for p in _tree(proc.pid)))
            done.wait(0.05)

    threading.Thread(target=run, daemon=True).start()
    return peak


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
        started = time.perf_counter()
        fetcher = Fetcher(make_session(settings), settings)
        report = run_fetch(store, fetcher, [source], tagger, extract_workers=workers)
        elapsed = time.perf_counter() - started
        assert report.sources[0].new == pages, report.sources[0]
        out.put(
            {"seconds": elapsed, "cpu": cpu_seconds() - before, "stories_s": report.stories.seconds}
        )


def run_extraction(pages: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tracker.ingest.extract import run_trafilatura

    htmls = [page(i) for i in range(pages)]  # generated up front, outside the clock
    before = cpu_seconds()
    started = time.perf_counter()
    for i, html in enumerate(htmls):
        run_trafilatura(html, f"http://127.0.0.1/a/{i}")
    elapsed = time.perf_counter() - started
    out.put({"seconds": elapsed, "cpu": cpu_seconds() - before})


def run_download_and_extraction(base: str, pages: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """The baseline under the pipeline's conditions: each page downloaded from the same server
    (which then shares the cores, as it does during the pipeline's runs), then extracted."""
    import requests

    from tracker.ingest.extract import run_trafilatura

    session = requests.Session()
    before = cpu_seconds()
    started = time.perf_counter()
    for i in range(pages):
        url = f"{base}/a/{i}"
        run_trafilatura(session.get(url, timeout=30).text, url)
    elapsed = time.perf_counter() - started
    out.put({"seconds": elapsed, "cpu": cpu_seconds() - before})


def measure(target, *args):  # type: ignore[no-untyped-def]
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    proc = multiprocessing.Process(target=target, args=(*args, queue))
    done = threading.Event()
    proc.start()
    peak = sample_peak_kb(proc, done)
    try:
        while True:
            try:
                result = queue.get(timeout=1)
                break
            except Exception:  # queue.Empty: is the child still alive?
                if not proc.is_alive():
                    raise SystemExit(
                        f"{target.__name__} died with exit code {proc.exitcode}"
                    ) from None
    finally:
        done.set()
    proc.join()
    result["peak_mb"] = peak[0] / 1024
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
        served = measure(run_download_and_extraction, base, args.pages)
    finally:
        server.terminate()
    extraction = measure(run_extraction, args.pages)
    print(
        f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}; "
        f"{args.pages} pages served from loopback by another process"
    )
    print(
        "| run | wall s | articles/s | CPU s | wall vs baseline | CPU vs baseline "
        "| wall vs served baseline | CPU vs served baseline | peak MB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = (
        (f"pipeline, extraction pool of {pool} (default)", pooled),
        ("pipeline, extraction in-process", single),
        ("download + trafilatura, same server (served baseline)", served),
        ("trafilatura extraction alone, pages in memory (baseline)", extraction),
    )
    for name, r in rows:
        print(
            f"| {name} | {r['seconds']:.1f} | {args.pages / r['seconds']:.0f} | {r['cpu']:.1f} | "
            f"{r['seconds'] / extraction['seconds']:.2f}x | {r['cpu'] / extraction['cpu']:.2f}x | "
            f"{r['seconds'] / served['seconds']:.2f}x | {r['cpu'] / served['cpu']:.2f}x | "
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
