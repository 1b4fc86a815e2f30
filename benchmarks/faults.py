"""Fault injection: the tracker under kills, overlapping runs, hostile servers and hostile SMTP.

    python benchmarks/faults.py [--kills 20] [--seed 1] [--only NAME ...]

Not part of the test suite (it runs for minutes); see docs/reliability.md, which records its
latest results. Every run of the tracker is a real ``python -m tracker`` process against servers
on loopback (an HTTP server with feeds and article pages, the hostile server of tests/hostile.py,
an aiosmtpd server). Prints one markdown table: scenario, outcome (PASS/FAIL), figures.
Needs the test extra (pytest-httpserver, aiosmtpd).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import serve_news  # noqa: E402
from tests.hostile import HostileServer, feed_body  # noqa: E402
from tests.smtp import Inbox, _free_port, _Handler  # noqa: E402

SUBSCRIBERS = [f"reader{i}@example.org" for i in range(5)]


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float


# The tracker runs under this small launcher, which reports its child's peak memory: measured
# from this script directly, a child's ru_maxrss would include this process's own pages at fork
# time (the hostile server holds a 200 MB bomb here).
LAUNCHER = (
    "import resource, subprocess, sys; "
    "code = subprocess.call([sys.executable, '-m', 'tracker', *sys.argv[2:]]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
    "sys.exit(code)"
)


def tracker(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    """One ``python -m tracker`` process, with its exit code, output, time and peak memory."""
    full = {
        **os.environ,
        "TRACKER_HOME": str(home),
        "NO_PROXY": "127.0.0.1,localhost",
        **(env or {}),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(peak), *args],
            env=full,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        rss = int(peak.read_text()) / 1024 if peak.exists() else 0.0
    return Run(done.returncode, done.stdout, done.stderr, time.perf_counter() - started, rss)


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TRACKER_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def store_checks(db: Path) -> dict[str, object]:
    """integrity_check, the search index's own check, duplicates and unplaced articles."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        try:
            conn.execute(
                "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
            )
            fts = "ok"
        except sqlite3.DatabaseError as exc:
            fts = str(exc)
        articles, canon = conn.execute(
            "SELECT count(*), count(DISTINCT canonical_url) FROM articles"
        ).fetchone()
        unplaced = conn.execute("SELECT count(*) FROM articles WHERE story_id IS NULL").fetchone()[
            0
        ]
        extracted = conn.execute("SELECT sum(extracted) FROM articles").fetchone()[0] or 0
    return {
        "integrity": integrity,
        "fts": fts,
        "articles": articles,
        "duplicates": articles - canon,
        "unplaced": unplaced,
        "extracted": extracted,
    }


def sound(checks: dict[str, object]) -> bool:
    return checks["integrity"] == "ok" and checks["fts"] == "ok" and checks["duplicates"] == 0


def news_server(n: int, page_delay: float = 0.005) -> HTTPServer:
    server = HTTPServer(threaded=True)
    server.start()
    serve_news(server, n, page_delay=page_delay)
    return server


def config(home: Path, sources: str, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\nretries = 0\nconnect_timeout = 2\nread_timeout = 5\n"
        "request_deadline = 10\n\n" + sources + extra,
        encoding="utf-8",
    )


def rss_source(name: str, url: str, pages: bool = False) -> str:
    return f'[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{url}"\nfetch_articles = {str(pages).lower()}\n\n'


def subscribers() -> str:
    return "[digest]\n\n" + "".join(
        f'[[digest.subscribers]]\nemail = "{e}"\n\n' for e in SUBSCRIBERS
    )


# ---------------------------------------------------------------- scenarios
def kills(work: Path, count: int, rng: random.Random) -> tuple[bool, str]:
    home = work / "kills"
    server = news_server(400)
    config(home, rss_source("wire", server.url_for("/feed.xml"), pages=True))
    bad = []
    for k in range(count):
        proc = start(home, "-q", "fetch", *(["--all"] if k % 3 == 2 else []))
        time.sleep(rng.uniform(0.3, 4.0))
        proc.kill()
        proc.communicate()
        if (home / "tracker.db").exists():
            checks = store_checks(home / "tracker.db")
            if not sound(checks):
                bad.append((k, checks))
    final = tracker(home, "-q", "fetch")
    checks = store_checks(home / "tracker.db")
    server.stop()
    ok = not bad and final.code == 0 and sound(checks) and checks["articles"] == 400
    ok = ok and checks["unplaced"] == 0 and checks["extracted"] == 400
    return ok, (
        f"{count} kills, unsound after a kill: {len(bad)}; final run exit {final.code}: "
        f"{checks['articles']} articles, {checks['extracted']} extracted, "
        f"{checks['duplicates']} duplicates, {checks['unplaced']} unplaced, "
        f"integrity {checks['integrity']}, fts {checks['fts']}"
    )


def overlapping(work: Path) -> tuple[bool, str]:
    home = work / "overlap"
    server = news_server(300, page_delay=0.05)
    config(home, rss_source("wire", server.url_for("/feed.xml"), pages=True), subscribers())
    tracker(home, "-q", "fetch")  # a store to read from
    fetches = [start(home, "-q", "fetch", "--all") for _ in range(2)]
    reads = searches = 0
    errors: list[str] = []
    while any(p.poll() is None for p in fetches):
        for args in (("search", "entity", "-f", "json"), ("digest", "--dry-run")):
            run = tracker(home, *args)
            reads += 1
            searches += args[0] == "search"
            if run.code != 0 or "Traceback" in run.err:
                errors.append(run.err.strip()[-200:])
    outcomes = [(p.returncode, p.communicate()[1]) for p in fetches]
    refused = sum("already running" in err for _, err in outcomes)
    tracebacks = sum("Traceback" in err for _, err in outcomes)
    checks = store_checks(home / "tracker.db")
    server.stop()
    ok = not errors and tracebacks == 0 and sound(checks) and checks["articles"] == 300
    return ok, (
        f"2 fetches (--all) at once: exits {[c for c, _ in outcomes]}, {refused} refused in one "
        f"line, {tracebacks} tracebacks; {reads} searches and digest previews meanwhile, "
        f"{len(errors)} failed; {checks['articles']} articles, {checks['duplicates']} duplicates"
    )


def hostile_source(work: Path, name: str, path: str, expect: str) -> tuple[bool, str]:
    hostile = HostileServer(trickle_gap=0.2).start()
    good = news_server(3)
    home = work / name
    config(
        home, rss_source(name, hostile.url(path)) + rss_source("good", good.url_for("/feed.xml"))
    )
    run = tracker(home, "fetch")
    checks = store_checks(home / "tracker.db")
    hostile.stop()
    good.stop()
    with contextlib.closing(sqlite3.connect(home / "tracker.db")) as conn:
        state = conn.execute(
            "SELECT last_error, next_attempt_at FROM source_state WHERE name = ?", [name]
        ).fetchone()
        longest = conn.execute("SELECT max(length(title)) FROM articles").fetchone()[0]
    failed = state is not None and state[0] is not None
    ok = (
        "Traceback" not in run.err
        and sound(checks)
        and checks["articles"] >= 3
        and (expect in (state[0] or "") if expect else (longest or 0) < 10_000)
        and (not expect or state[1] is not None)
    )
    what = f"failed alone: {state[0][:70]}" if failed else f"parsed, longest title {longest} chars"
    return ok, f"{what}; the good source stored; {run.seconds:.1f} s, {run.max_rss_mb:.0f} MB peak"


def big_feed(work: Path) -> tuple[bool, str]:
    hostile = HostileServer()
    hostile.bodies["big"] = (feed_body(10_000, "big"), "application/rss+xml")
    hostile.start()
    home = work / "big"
    config(home, rss_source("big", hostile.url("/bytes/big")))
    run = tracker(home, "fetch")
    checks = store_checks(home / "tracker.db")
    hostile.stop()
    ok = (
        run.code == 0 and checks["articles"] == 10_000 and checks["unplaced"] == 0 and sound(checks)
    )
    return ok, (
        f"10,000 items, no page fetches: {run.seconds:.1f} s in all (placement included), "
        f"{run.max_rss_mb:.0f} MB peak, {checks['unplaced']} unplaced"
    )


def full_disk(work: Path) -> tuple[bool, str]:
    home = work / "disk"
    home.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(home)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    server = news_server(2000)
    try:
        config(home, rss_source("wire", server.url_for("/feed.xml")))
        if not mounted:
            return False, "could not mount a 3 MB tmpfs (needs root); not measured"
        run = tracker(home, "-q", "fetch")
        checks = store_checks(home / "tracker.db")
        lines = run.err.strip().splitlines()
        ok = run.code == 1 and len(lines) == 1 and "Traceback" not in run.err and sound(checks)
        return ok, (
            f"3 MB tmpfs, 2,000 items: exit {run.code}, {len(lines)} line ({run.err.strip()[:80]}...); "
            f"{checks['articles']} articles kept, integrity {checks['integrity']}"
        )
    finally:
        server.stop()
        if mounted:
            subprocess.run(["umount", str(home)], check=False)


class Smtp:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller = Controller(_Handler(self.inbox), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def env(self, port: int | None = None) -> dict[str, str]:
        return {
            "TRACKER_SMTP_HOST": "127.0.0.1",
            "TRACKER_SMTP_PORT": str(port or self.port),
            "TRACKER_MAIL_FROM": "tracker@example.org",
            "TRACKER_SMTP_SECURITY": "none",
            "TRACKER_BUSY_TIMEOUT": "1",
        }

    def per_recipient(self) -> dict[str, int]:
        return {e: len(self.inbox.to(e)) for e in SUBSCRIBERS}

    def stop(self) -> None:
        self.controller.stop()


def smtp_case(
    work: Path, name: str, fault: Callable[[Smtp, Path], Callable[[], None]]
) -> tuple[bool, str]:
    home = work / f"smtp-{name}"
    server = news_server(20)
    config(home, rss_source("wire", server.url_for("/feed.xml")), subscribers())
    tracker(home, "-q", "fetch")
    server.stop()
    smtp = Smtp()
    undo = fault(smtp, home)
    first = tracker(home, "digest", "--send", env=smtp.env(getattr(smtp, "use_port", None)))
    undo()
    second = tracker(home, "digest", "--send", env=smtp.env())
    third = tracker(home, "digest", "--send", env=smtp.env())
    counts = smtp.per_recipient()
    smtp.stop()
    tracebacks = sum("Traceback" in r.err for r in (first, second, third))
    ok = tracebacks == 0 and all(n == 1 for n in counts.values())
    return ok, (
        f"exits {first.code}/{second.code}/{third.code}; messages per recipient after three sends: "
        f"{sorted(set(counts.values()))}; {tracebacks} tracebacks"
    )


def refused(smtp: Smtp, home: Path) -> Callable[[], None]:
    smtp.inbox.refuse = {SUBSCRIBERS[2]}
    return lambda: smtp.inbox.refuse.clear()


def code_421(smtp: Smtp, home: Path) -> Callable[[], None]:
    smtp.inbox.code = "421 4.3.0 shutting down"
    return lambda: setattr(smtp.inbox, "code", "")


def gone(smtp: Smtp, home: Path) -> Callable[[], None]:
    smtp.use_port = _free_port()  # type: ignore[attr-defined]  # nothing listens there
    return lambda: None


def write_lock(smtp: Smtp, home: Path) -> Callable[[], None]:
    conn = sqlite3.connect(home / "tracker.db", isolation_level=None, check_same_thread=False)

    def take() -> None:
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE sources SET lang = lang")

    smtp.inbox.on_message = take

    def release() -> None:
        smtp.inbox.on_message = None
        if conn.in_transaction:
            conn.execute("COMMIT")
        conn.close()

    return release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="scenario names to run (default: all)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    )
    work = Path(tempfile.mkdtemp(prefix="tracker-faults-"))
    scenarios: dict[str, Callable[[], tuple[bool, str]]] = {
        "kill-9": lambda: kills(work, args.kills, rng),
        "overlapping": lambda: overlapping(work),
        "trickling": lambda: hostile_source(work, "trickle", "/trickle/30", "request_deadline"),
        "silent": lambda: hostile_source(work, "silent", "/silent", "timed out"),
        "gzip-bomb": lambda: hostile_source(work, "bomb", "/bomb", "cap"),
        "entity-bomb": lambda: hostile_source(work, "laughs", "/entities", ""),
        "10k-feed": lambda: big_feed(work),
        "full-disk": lambda: full_disk(work),
        "smtp-refused": lambda: smtp_case(work, "refused", refused),
        "smtp-421": lambda: smtp_case(work, "421", code_421),
        "smtp-gone": lambda: smtp_case(work, "gone", gone),
        "smtp-write-lock": lambda: smtp_case(work, "lock", write_lock),
    }
    print("| scenario | outcome | figures |\n| --- | --- | --- |", flush=True)
    failed = 0
    for name, scenario in scenarios.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        try:
            ok, figures = scenario()
        except Exception as exc:  # a scenario's own failure is a row, not the end of the table
            ok, figures = False, f"the scenario raised {exc!r}"
        failed += not ok
        print(
            f"| {name} | {'PASS' if ok else 'FAIL'} | {figures} ({time.perf_counter() - started:.0f} s) |",
            flush=True,
        )
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
