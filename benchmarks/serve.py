"""The web reader under load: 50 clients on a large store while a fetch writes to it.

    python benchmarks/serve.py --db /tmp/ent1m.db [--clients 50] [--seconds 30] [--pause 1.0]

The store is one `benchmarks/entities.py --db PATH` built (1,000,000 articles, stories
placed, the official record linked; `benchmarks/search.py --db PATH` builds one without the
record). `tracker serve` runs as its own process pinned to core 0, and so does the writer (a
fetch competes with the page on the machine it runs on); this process, the clients, has core 1
to itself, so the measuring neither takes the server's core nor is slowed by what it measures.
Each client keeps one HTTP/1.1 connection and asks, in turn, for a search page (HTML, from a
fixed mix of English, Chinese, tag and date queries) or an article page (ids drawn from the
store), half each, then pauses like a reader (uniform 0 to 2 x --pause seconds; --pause 0 is a
saturation run). Meanwhile `tracker fetch` runs every --fetch-every seconds (5) against a
loopback feed that has 20 new items each time, so the store is written to (BEGIN IMMEDIATE,
WAL) throughout. The server's memory is read from /proc every second. Prints Markdown for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from tracker.store import Store

SEARCHES = [
    "q=entity+list",
    "q=nvidia",
    "q=%E8%8B%B1%E4%BC%9F%E8%BE%BE",  # 英伟达
    "q=h20",
    "q=export+controls&since=30d",
    "q=licens*",
    "q=%22entity+list%22+nvidia",
    "q=%E5%AE%9E%E4%BD%93%E6%B8%85%E5%8D%95",  # 实体清单
    "q=gallium&lang=en",
    "q=&tag=company%3Anvidia",
    "q=chips&relevant=1",
    "q=smic&since=90d",
]


class Feed(BaseHTTPRequestHandler):
    """An RSS feed with 20 items never seen before on every request."""

    protocol_version = "HTTP/1.1"
    served = int(time.time())  # items never seen before, on every run of the benchmark too
    requests = 0

    def do_GET(self) -> None:
        Feed.served += 1
        Feed.requests += 1
        n = Feed.served
        items = "".join(
            f"<item><title>Commerce adds firms to the Entity List, update {n}-{i}</title>"
            f"<link>http://feed.bench/a/{n}-{i}</link><guid>bench-{n}-{i}</guid>"
            f"<description>BIS said on update {n}-{i} that Nvidia H20 exports to China "
            f"need a licence; SMIC and {n * 20 + i} others were named.</description></item>"
            for i in range(20)
        )
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>'
            f"{items}</channel></rss>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def article_ids(db: Path, n: int) -> list[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    top = con.execute("SELECT max(rowid) FROM articles").fetchone()[0]
    rng = random.Random(7)
    rowids = [rng.randint(1, top) for _ in range(n)]
    marks = ",".join("?" * len(rowids))
    ids = [r[0] for r in con.execute(f"SELECT id FROM articles WHERE rowid IN ({marks})", rowids)]
    con.close()
    return ids


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, bytes]:
    """One GET on a kept-alive HTTP/1.1 connection: (status, body); Content-Length or chunked."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip() or b"0", 16):
        body += await reader.readexactly(size)
        await reader.readexactly(2)
    await reader.readexactly(2)  # the empty line after the last chunk
    return status, body


failures: list[str] = []
KEEP_ALIVE = 4.0  # seconds: uvicorn closes a connection idle for 5


async def client(
    port: int,
    ids: list[str],
    until: float,
    pause: float,
    seed: int,
    out: list[tuple[str, float, int, bool]],
) -> None:
    rng = random.Random(seed)
    if pause:  # readers arrive over the first pause, not all in the same instant
        await asyncio.sleep(rng.uniform(0, 2 * pause))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    idle_since = time.monotonic()
    while time.monotonic() < until:
        if rng.random() < 0.5:
            kind, path = "search", "/search?" + rng.choice(SEARCHES)
        else:
            kind, path = "article", "/article/" + quote(rng.choice(ids))
        start = time.perf_counter()
        if time.monotonic() - idle_since > KEEP_ALIVE:
            # the server has closed an idle connection by now; a browser opens a new one
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            status, body = await get(reader, writer, path)
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
            out.append((kind, time.perf_counter() - start, 0, False))
            failures.append(f"{kind} {path}: {type(exc).__name__}: {exc}"[:200])
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        out.append((kind, time.perf_counter() - start, status, b"database is locked" in body))
        idle_since = time.monotonic()
        if pause:
            await asyncio.sleep(rng.uniform(0, 2 * pause))
    writer.close()


async def load(
    port: int, pid: int, ids: list[str], clients: int, seconds: float, pause: float
) -> tuple[list[tuple[str, float, int, bool]], list[float]]:
    out: list[tuple[str, float, int, bool]] = []
    memory: list[float] = []
    until = time.monotonic() + seconds

    async def sample() -> None:
        while time.monotonic() < until:
            memory.append(rss_mb(pid))
            await asyncio.sleep(1)

    await asyncio.gather(
        sample(), *(client(port, ids, until, pause, k, out) for k in range(clients))
    )
    return out, memory


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a store benchmarks/search.py built")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--pause", type=float, default=1.0, help="mean pause between a client's pages")
    ap.add_argument("--no-writer", action="store_true", help="no tracker fetch meanwhile")
    ap.add_argument("--threads", type=int, default=4, help="tracker serve --threads")
    ap.add_argument("--fetch-every", type=float, default=5.0, help="seconds between fetches")
    ap.add_argument(
        "--server-cores",
        default="0",
        help="cores for the server and the writer (taskset list); '0,1' shares the clients' core",
    )
    args = ap.parse_args()
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {1})  # the clients; the server and the writer get core 0
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    feed = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=feed.serve_forever, daemon=True).start()
    (work / "tracker.toml").write_text(
        '[settings]\nmin_interval = 0\nretries = 0\n\n[[sources]]\nname = "bench-feed"\n'
        f'kind = "rss"\nurl = "http://127.0.0.1:{feed.server_address[1]}/feed.xml"\n'
        "fetch_articles = false\n",
        encoding="utf-8",
    )
    env = {**os.environ, "TRACKER_CONFIG": str(work / "tracker.toml"), "TRACKER_HOME": str(work)}
    tracker = [sys.executable, "-m", "tracker", "--db", str(args.db)]
    Store.open(args.db).close()  # brings an older benchmark store's schema up to date
    ids = article_ids(args.db, 5000)
    port = free_port()
    server_log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            args.server_cores,
            *tracker,
            "serve",
            "--port",
            str(port),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=server_log,  # a file: a pipe nobody reads would fill and stall the server
        text=True,
    )
    assert server.stdout is not None
    server.stdout.readline()
    deadline = time.monotonic() + 30
    while True:
        try:
            asyncio.run(warm(port, ids))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    fetches: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def writer() -> None:
        while not stop.wait(args.fetch_every):
            start = time.perf_counter()
            done = subprocess.run(
                ["taskset", "-c", args.server_cores, *tracker, "fetch"],
                env=env,
                capture_output=True,
                text=True,
            )
            fetches.append((time.perf_counter() - start, done.returncode, done.stderr[-300:]))

    thread = threading.Thread(target=writer)
    if not args.no_writer:
        # a first run outside the measured time: one after the schema changed catches up
        subprocess.run([*tracker, "-q", "fetch"], env=env, check=True, capture_output=True)
        thread.start()
    before = rss_mb(server.pid)
    try:
        results, memory = asyncio.run(
            load(port, server.pid, ids, args.clients, args.seconds, args.pause)
        )
    finally:
        stop.set()
        if thread.is_alive():
            thread.join(120)
        server.terminate()
        server.wait(30)
    report(args, results, memory, before, fetches, Feed.requests)
    server_log.close()
    if failures:
        print(
            f"\n{len(failures)} requests failed in the client; the first:", *failures[:5], sep="\n"
        )
    errors = (work / "server.log").read_text().splitlines()
    if errors:
        print(
            f"\nServer log ({work / 'server.log'}), {len(errors)} lines; the last:",
            *errors[-8:],
            sep="\n",
        )


async def warm(port: int, ids: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for q in SEARCHES:
        await get(reader, writer, "/search?" + q)
    for aid in ids[:50]:
        await get(reader, writer, "/article/" + aid)
    writer.close()


def free_port() -> int:
    """A free loopback port (closed again before the server binds it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def report(
    args: argparse.Namespace,
    results: list[tuple[str, float, int, bool]],
    memory: list[float],
    before: float,
    fetches: list[tuple[float, int, str]],
    feeds: int,
) -> None:
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; {args.db.name}; {args.clients} clients, "
        f"{args.seconds:.0f} s, mean pause {args.pause} s; writer {'off' if args.no_writer else 'on'}; "
        f"server on core(s) {args.server_cores}, {args.threads} threads\n"
    )
    print("| page | requests | per s | p50 ms | p95 ms | max ms | not 200 | locked |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in ("search", "article"):
        rows = [r for r in results if r[0] == kind]
        times = [r[1] for r in rows]
        bad = sum(1 for r in rows if r[2] != 200)
        codes = sorted({r[2] for r in rows if r[2] != 200})
        if codes:
            print(f"<!-- {kind}: statuses other than 200: {codes} -->")
        locked = sum(1 for r in rows if r[3])
        print(
            f"| {kind} | {len(rows):,} | {len(rows) / args.seconds:.1f} | {pct(times, 0.5):.1f} | "
            f"{pct(times, 0.95):.1f} | {max(times) * 1000:.1f} | {bad} | {locked} |"
        )
    step = max(1, len(memory) // 6)
    trace = ", ".join(f"{m:.0f}" for m in memory[::step])
    print(
        f"\nServer memory (RSS): {before:.0f} MB after warm-up; every {step} s of the run: "
        f"{trace}; max {max(memory):.0f}, last {memory[-1]:.0f} MB"
    )
    failed = [f for f in fetches if f[1] != 0]
    print(
        f"Writer: {len(fetches)} tracker fetch runs ({feeds} feeds served, 20 new items each), "
        f"{len(failed)} failed; median run {statistics.median([f[0] for f in fetches]) if fetches else 0:.1f} s"
    )
    for f in failed[:3]:
        print("  failed:", f[2].strip().splitlines()[-1:])


if __name__ == "__main__":
    main()
