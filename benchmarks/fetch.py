"""Concurrent fetching: wall time against the ideal and a sequential run; then a repeat run.

    python benchmarks/fetch.py [--interval 0.25] [--delay 0.1]

Ten loopback hosts (127.0.0.2 to 127.0.0.11, served by another process) each serve two RSS feeds of
twenty article pages: 20 feeds, 400 pages, every response delayed by --delay seconds. The pipeline
fetches them with its defaults (8 sources at a time, 4 page fetchers per source) and a per-host
interval of --interval seconds; in the same run, sequentially (one source, one page at a time).
Then a second run with nothing changed counts the feed answers that were 304 and pages fetched again.

Two lower bounds. The per-host pacing bound is what politeness alone forces: no host can be served
faster than (requests - 1) * interval + delay, whatever the number of workers. The "ideal" adds our
own choice of 8 source workers: no run beats the paced work spread over them either. The first is
the one a user would compare with (how close to "as fast as the hosts allow"); the second shows
what the worker count costs.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import platform
import sys
import tempfile
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

sys.path.insert(0, str(Path(__file__).parent))

from pages import page

HOSTS = [f"127.0.0.{i}" for i in range(2, 12)]
FEEDS_PER_HOST = 2
PAGES_PER_FEED = 20


def _feed(base: str, host_index: int, feed_index: int) -> bytes:
    items = "".join(
        f"<item><title>Story {host_index}-{feed_index}-{i}</title>"
        f"<link>{base}/a/{host_index}-{feed_index}-{i}</link></item>"
        for i in range(PAGES_PER_FEED)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def _serve(ports: multiprocessing.Queue, delay: float) -> None:  # type: ignore[type-arg]
    for host_index, host in enumerate(HOSTS):

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            index = host_index

            def do_GET(self) -> None:
                time.sleep(delay)
                base = f"http://{self.headers['Host']}"
                if self.path.startswith("/feed-"):
                    body = _feed(base, self.index, int(self.path[6]))
                    ctype = "application/rss+xml"
                elif self.path.startswith("/a/"):
                    a, b, c = (int(x) for x in self.path[3:].split("-"))
                    body, ctype = page(a * 1000 + b * 100 + c).encode(), "text/html; charset=utf-8"
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((host, 0), Handler)
        Thread(target=server.serve_forever, daemon=True).start()
        ports.put((host, server.server_address[1]))
    while True:
        time.sleep(3600)


def run(sources, settings, db: Path, **kw):  # type: ignore[no-untyped-def]
    from tracker.ingest.http import Fetcher, make_session
    from tracker.ingest.pipeline import run_fetch
    from tracker.store import Store
    from tracker.tagging.tagger import Tagger
    from tracker.tagging.vocabulary import load_vocabulary

    store = Store.open(db)
    before = store.count("fetch_log")
    started = time.perf_counter()
    report = run_fetch(
        store,
        Fetcher(make_session(settings), settings),
        sources,
        Tagger(load_vocabulary()),
        extract_workers=1,
        **kw,
    )
    elapsed = time.perf_counter() - started
    log = list(store.db.query("SELECT kind, status FROM fetch_log WHERE id > ?", [before]))
    store.close()
    assert not report.failures, report.failures
    return elapsed, log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    from tracker.config.load import Settings
    from tracker.models import Source

    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=_serve, args=(ports, args.delay), daemon=True)
    server.start()
    bases = dict(ports.get(timeout=10) for _ in HOSTS)
    # Interleaved by host, as a user's config would be: feeds of one host are not adjacent.
    sources = [
        Source(
            f"h{h}-f{f}",
            "rss",
            f"http://{host}:{bases[host]}/feed-{f}.xml",
            options={"fetch_articles": True},
        )
        for f in range(FEEDS_PER_HOST)
        for h, host in enumerate(HOSTS)
    ]
    settings = replace(Settings(), min_interval=args.interval)
    workers = 8
    per_host = 1 + FEEDS_PER_HOST * (1 + PAGES_PER_FEED)  # robots.txt, feeds, pages
    per_source_time = (1 + PAGES_PER_FEED) * args.interval
    pacing = (per_host - 1) * args.interval + args.delay  # politeness alone
    ideal = max(pacing, len(sources) * per_source_time / workers)  # and 8 workers
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            seq, _ = run(sources, settings, tmp_path / "seq.db", source_workers=1, workers=1)
            conc, first = run(sources, settings, tmp_path / "conc.db", source_workers=workers)
            again, second = run(sources, settings, tmp_path / "conc.db", source_workers=workers)
    finally:
        server.terminate()
    feeds2 = [r for r in second if r["kind"] == "feed"]
    not_modified = sum(r["status"] == 304 for r in feeds2)
    pages1 = sum(r["kind"] == "page" for r in first)
    pages2 = sum(r["kind"] == "page" for r in second)
    print(
        f"machine: {platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{len(HOSTS)} hosts, {len(sources)} feeds, {pages1} pages; delay {args.delay}s per response; "
        f"per-host interval {args.interval}s; {workers} source workers"
    )
    print("| run | wall s | vs per-host pacing bound | vs ideal (8 workers) | vs sequential |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = (
        ("per-host pacing bound", pacing),
        (f"ideal with {workers} source workers", ideal),
        ("concurrent (defaults)", conc),
        ("sequential", seq),
    )
    for name, value in rows:
        print(
            f"| {name} | {value:.1f} | {value / pacing:.2f}x | {value / ideal:.2f}x "
            f"| {value / seq:.2f}x |"
        )
    print(
        f"\nsecond run, nothing changed: {again:.1f}s; feed answers 304: {not_modified}/{len(feeds2)} "
        f"({100 * not_modified / max(len(feeds2), 1):.0f}%); article pages fetched again: {pages2}"
    )


if __name__ == "__main__":
    main()
