"""Runs that overlap, are killed or are stopped: `tracker fetch` as real processes against a
loopback server (issue 11: defects 3, 6 and 7, and SIGTERM)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from .helpers import serve_news
from .hostile import wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")


def write_config(home: Path, server: HTTPServer, *, pages: bool = True) -> None:
    (home / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\nretries = 0\n\n"
        f'[[sources]]\nname = "wire"\nkind = "rss"\nurl = "{server.url_for("/feed.xml")}"\n'
        f"fetch_articles = {str(pages).lower()}\n",
        encoding="utf-8",
    )


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TRACKER_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(home: Path, sql: str = "SELECT count(*) FROM articles") -> int:
    try:
        with sqlite3.connect(f"file:{home / 'tracker.db'}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet, or its tables not yet


def check_store(home: Path) -> None:
    with sqlite3.connect(home / "tracker.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
        dupes = conn.execute(
            "SELECT count(*) - count(DISTINCT canonical_url) FROM articles"
        ).fetchone()[0]
        assert dupes == 0


def test_a_second_fetch_is_refused_in_one_line_while_the_first_runs(
    tmp_path: Path, threaded_httpserver: HTTPServer
) -> None:
    serve_news(threaded_httpserver, 5, feed_delay=3)
    write_config(tmp_path, threaded_httpserver, pages=False)
    first = start(tmp_path, "-q", "fetch")
    lock = tmp_path / "tracker.db.fetch-lock"
    assert wait_for(lambda: lock.exists() and "pid" in lock.read_text())
    second = start(tmp_path, "-q", "fetch")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert "a fetch is already running on this database" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert count(tmp_path) == 5


def test_a_write_lock_held_elsewhere_makes_fetch_wait_not_crash(
    tmp_path: Path, threaded_httpserver: HTTPServer
) -> None:
    serve_news(threaded_httpserver, 120)
    write_config(tmp_path, threaded_httpserver, pages=False)
    first = start(tmp_path, "-q", "fetch")  # creates the store
    first.communicate(timeout=60)
    assert first.returncode == 0
    writer = sqlite3.connect(tmp_path / "tracker.db", isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE sources SET lang = 'en'")

    def release() -> None:
        time.sleep(3)
        writer.execute("COMMIT")

    releaser = threading.Thread(target=release)
    releaser.start()
    # Another process writes while this fetch stores its batches (--all: every page again).
    second = start(tmp_path, "-q", "fetch", "--all")
    _, err = second.communicate(timeout=60)
    releaser.join()
    writer.close()
    assert second.returncode == 0, err
    assert "Traceback" not in err
    check_store(tmp_path)


def run_then_stop(
    home: Path, server: HTTPServer, sig: signal.Signals
) -> tuple[subprocess.Popen[str], str, int]:
    serve_news(server, 300, page_delay=0.03)
    write_config(home, server)
    proc = start(home, "-q", "fetch")
    assert wait_for(lambda: count(home) >= 100, timeout=120), proc.stderr
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc, err, count(home)


def test_kill_9_mid_fetch_keeps_the_finished_batches_and_the_next_run_completes(
    tmp_path: Path, threaded_httpserver: HTTPServer
) -> None:
    proc, _, kept = run_then_stop(tmp_path, threaded_httpserver, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert 100 <= kept < 300  # batches of 50 were committed as they finished
    check_store(tmp_path)
    again = start(tmp_path, "-q", "fetch")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    check_store(tmp_path)
    assert count(tmp_path) == 300
    assert count(tmp_path, "SELECT count(*) FROM articles WHERE extracted = 1") == 300
    assert count(tmp_path, "SELECT count(*) FROM articles WHERE story_id IS NULL") == 0


def test_sigterm_ends_a_fetch_like_ctrl_c(tmp_path: Path, threaded_httpserver: HTTPServer) -> None:
    proc, err, kept = run_then_stop(tmp_path, threaded_httpserver, signal.SIGTERM)
    assert proc.returncode == 130, err
    assert "Interrupted" in err
    assert "Traceback" not in err
    assert kept >= 100
    check_store(tmp_path)


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found.update(int(p) for p in task.read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the extraction pool needs two cores")
def test_extraction_workers_exit_when_fetch_is_killed(
    tmp_path: Path, threaded_httpserver: HTTPServer
) -> None:
    serve_news(threaded_httpserver, 300, page_delay=0.03)  # over 64 pages: the pool starts
    write_config(tmp_path, threaded_httpserver)
    proc = start(tmp_path, "-q", "fetch")
    assert wait_for(lambda: count(tmp_path) >= 50 and len(children(proc.pid)) >= 2, timeout=120)
    workers = children(proc.pid)
    proc.kill()
    proc.communicate(timeout=30)
    assert wait_for(lambda: not any(alive(w) for w in workers), timeout=15), workers
