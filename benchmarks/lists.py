"""The screening list at full size: a 30,000-entry Consolidated Screening List file served from
loopback (by a separate process), kept by a `screening-list` source with all 13 lists, through
`tracker fetch` as whole processes:

1. the first snapshot (a baseline: every entry stored, no events);
2. the same file again (must cost one 304 and no parse);
3. a changed file (300 added, 300 revised, 300 removed: diffed into 900 events);
4. `tracker entity NAME` on the resulting store.

Each step is a fresh process timed from outside; its peak memory is the child's ru_maxrss, read
by the parent after it exits (nothing samples inside the measured process). The server counts
the requests and 304s it answered.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process, Queue
from pathlib import Path

HEADER = ["_id", "source", "entity_number", "type", "name", "addresses", "federal_register_notice",
          "start_date", "license_requirement", "license_policy", "alt_names", "remarks"]  # fmt: skip
SOURCES = [
    "Entity List (EL) - Bureau of Industry and Security",
    "Military End User (MEU) List - Bureau of Industry and Security",
    "Unverified List (UVL) - Bureau of Industry and Security",
    "Denied Persons List (DPL) - Bureau of Industry and Security",
    "Specially Designated Nationals (SDN) - Treasury Department",
    "Sectoral Sanctions Identifications List (SSI) - Treasury Department",
]


def make_csv(n: int, changed: bool) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(n):
        if changed and i % 100 == 0:
            continue  # 300 removed
        citation = "90 FR 40000" if changed and i % 100 == 1 else "89 FR 10000"  # 300 revised
        writer.writerow(_row(i, citation))
    if changed:
        for i in range(n, n + n // 100):
            writer.writerow(_row(i, "90 FR 40001"))  # 300 added
    return out.getvalue().encode()


def _row(i: int, citation: str) -> list[str]:
    return [
        f"id-{i:06d}", SOURCES[i % len(SOURCES)], str(i % 500), "Entity",
        f"Example Trading Company {i} Limited", f"{i} Example Road, Shenzhen, CN", citation,
        "2024-01-01", "For all items subject to the EAR.", "Presumption of denial.",
        f"Example Trading {i}; 示例贸易{i}", "",
    ]  # fmt: skip


def serve(folder: str, ready: Queue) -> None:
    """Serve the files in ``folder`` (read on each request, so a step can change one) with a
    strong ETag; /stats answers how many requests and 304s there were."""
    stats = {"requests": 0, "not_modified": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/stats":
                body = json.dumps(stats).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            path = Path(folder) / self.path.strip("/")
            if not path.is_file():
                self.send_error(404)
                return
            stats["requests"] += 1
            body = path.read_bytes()
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                stats["not_modified"] += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ready.put(server.server_address[1])
    server.serve_forever()


# Runs one command and reports that command's own peak memory: a fresh parent per step, so
# ru_maxrss of its children is this step's alone.
WRAP = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(r.returncode)"
)


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds, peak MiB of the command, and its output."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAP, *argv], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{argv[3:]} failed: {done.stderr}")
    peak = int(done.stderr.rsplit("MAXRSS", 1)[1].split()[0])
    return seconds, peak / 1024, done.stdout


def stats(port: int) -> dict[str, int]:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats") as answer:
        return dict(json.loads(answer.read()))


def setup(home: Path, served: Path, entries: int) -> tuple[Process, int, dict[str, str]]:
    """The list file served from loopback by its own process, and a tracker home whose one
    source is that list: (the server, its port, the environment to run tracker in)."""
    (served / "list.csv").write_bytes(make_csv(entries, False))
    ready: Queue = Queue()
    server = Process(target=serve, args=(str(served), ready), daemon=True)
    server.start()
    port = ready.get(timeout=10)
    (home / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\nobey_robots = false\nsource_deadline = 3600\n\n"
        f'[[sources]]\nname = "csl"\nkind = "screening-list"\n'
        f'url = "http://127.0.0.1:{port}/list.csv"\n'
        'lists = ["EL", "MEU", "UVL", "DPL", "SDN", "SSI"]\nmax_loss = 1.0\n',
        encoding="utf-8",
    )
    return server, port, {**os.environ, "TRACKER_HOME": str(home), "NO_PROXY": "127.0.0.1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=30_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, served = Path(tmp) / "home", Path(tmp) / "served"
        home.mkdir()
        served.mkdir()
        server, port, env = setup(home, served, args.entries)
        tracker = [sys.executable, "-m", "tracker"]
        size = (served / "list.csv").stat().st_size / 1e6
        print(f"{args.entries} entries, {size:.1f} MB CSV, fetched with `tracker -q fetch`")
        rows = [("first snapshot (baseline)", *run([*tracker, "-q", "fetch"], env)[:2])]
        rows.append(("same file again", *run([*tracker, "-q", "fetch"], env)[:2]))
        answered = stats(port)
        # The same URL answering a new file, as trade.gov's daily rebuild does.
        (served / "list.csv").write_bytes(make_csv(args.entries, True))
        rows.append(("changed file (900 changes)", *run([*tracker, "-q", "fetch"], env)[:2]))
        seconds, peak, out = run(
            [*tracker, "entity", "Example Trading Company 12345 Limited", "-f", "json"], env
        )
        found = sum(len(e["entries"]) for e in json.loads(out)["entities"])
        rows.append((f"tracker entity (found {found})", seconds, peak))
        events = json.loads(
            run([*tracker, "lists", "changes", "--since", "1d", "-f", "json"], env)[2]
        )
        server.terminate()
    print("| step | seconds | peak MiB |\n| --- | ---: | ---: |")
    for name, s_, mib in rows:
        print(f"| {name} | {s_:.2f} | {mib:.0f} |")
    print(
        f"after two fetches of one file the server had answered {answered['requests']} requests, "
        f"{answered['not_modified']} of them 304; events after the change: {len(events)}"
    )


if __name__ == "__main__":
    main()
