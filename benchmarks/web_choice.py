"""The web reader's toolkit, measured: the same page views served by Starlette (what `tracker
serve` runs) and as a Datasette plugin route, side by side on one store.

    python benchmarks/web_choice.py --db /tmp/s100k.db [--seconds 10]

Both servers run the same view code (tracker.web.reading) under uvicorn, each in its own
process pinned to core 0, one after the other; the client (this process) is pinned to core 1.
For each page (an article, a cheap search, the home page) one client asks in a loop for
--seconds, then eight clients do. Reported: requests per second, p50 / p95, the server's memory
and the time from starting the process to its first answer. Needs `pip install datasette`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from serve import free_port, get, pct, rss_mb

PLUGIN = '''
"""tracker's reader views as a Datasette plugin route (benchmarks/web_choice.py)."""
import asyncio
from datetime import UTC, datetime
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response

from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import load_vocabulary
from tracker.web import reading
from tracker.web.common import Pages, Reader

PAGES = Pages(Reader(Path(DB_PATH), Tagger(load_vocabulary()), lambda: datetime.now(UTC)))


class Url(str):
    def include_query_params(self, **params):
        return self


class Adapted:
    """The few parts of a Starlette request the views read."""

    def __init__(self, request):
        self.path_params = request.url_vars
        self.query_params = request.args
        self.url = Url(request.url)


def route(view):
    async def endpoint(request):
        answer = await asyncio.to_thread(view, PAGES, Adapted(request))
        return Response(answer.body, status=answer.status_code, content_type=answer.media_type)

    return endpoint


@hookimpl
def register_routes():
    return [
        (r"^/t/article/(?P<article_id>[0-9a-f]+)$", route(reading.article_page)),
        (r"^/t/search$", route(reading.search_page)),
    ]
'''


def start(command: list[str], port: int, probe: str) -> tuple[subprocess.Popen[bytes], float]:
    began = time.perf_counter()
    proc = subprocess.Popen(
        ["taskset", "-c", "0", *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    async def first() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await get(reader, writer, probe)
        writer.close()

    while True:
        try:
            asyncio.run(first())
            return proc, time.perf_counter() - began
        except OSError:
            if proc.poll() is not None or time.perf_counter() - began > 60:
                raise RuntimeError(f"{command[0]} did not start") from None
            time.sleep(0.05)


async def hammer(port: int, paths: list[str], clients: int, seconds: float) -> list[float]:
    times: list[float] = []
    until = time.monotonic() + seconds

    async def one(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < until:
            start = time.perf_counter()
            status, _ = await get(reader, writer, rng.choice(paths))
            assert status == 200, status
            times.append(time.perf_counter() - start)
        writer.close()

    await asyncio.gather(*(one(k) for k in range(clients)))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {1})
    con = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    ids = [r[0] for r in con.execute("SELECT id FROM articles ORDER BY random() LIMIT 200")]
    con.close()
    plugins = Path(tempfile.mkdtemp(prefix="web-choice-"))
    (plugins / "tracker_reader.py").write_text(
        PLUGIN.replace("DB_PATH", repr(str(args.db.resolve()))), encoding="utf-8"
    )
    pages = {
        "article": [f"/article/{i}" for i in ids],
        "search": ["/search?q=entity+list", "/search?q=&tag=company%3Anvidia"],
    }
    servers = {
        "Starlette (tracker serve)": (
            lambda port: [
                sys.executable,
                "-m",
                "tracker",
                "--db",
                str(args.db),
                "serve",
                "--port",
                str(port),
            ],
            "",
        ),
        "Datasette plugin route": (
            lambda port: [
                sys.executable,
                "-m",
                "datasette",
                "serve",
                str(args.db),
                "--port",
                str(port),
                "--plugins-dir",
                str(plugins),
            ],
            "/t",
        ),
    }
    print(f"Store {args.db.name}; {args.seconds:.0f} s per cell; server on core 0, client on 1\n")
    print("| toolkit | page | clients | per s | p50 ms | p95 ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    notes = []
    for name, (command, prefix) in servers.items():
        port = free_port()
        proc, started = start(command(port), port, prefix + pages["article"][0])
        try:
            for page, paths in pages.items():
                prefixed = [prefix + p for p in paths]
                asyncio.run(hammer(port, prefixed, 1, 1))  # warm
                for clients in (1, 8):
                    times = asyncio.run(hammer(port, prefixed, clients, args.seconds))
                    print(
                        f"| {name} | {page} | {clients} | {len(times) / args.seconds:.0f} | "
                        f"{pct(times, 0.5):.1f} | {pct(times, 0.95):.1f} |"
                    )
            notes.append(
                f"{name}: first answer {started:.2f} s after start; {rss_mb(proc.pid):.0f} MB"
            )
        finally:
            proc.terminate()
            proc.wait(30)
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
