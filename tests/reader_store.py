"""The store the web reader's tests read: the demo's (``tracker demo``, whose Federal Register
rule has dates ahead), plus what the demo lacks for every page to have something: a stored title
that tries to run script, and a list change naming SMIC."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from click.testing import CliRunner

from tracker.cli import cli
from tracker.models import Article
from tracker.store import Store
from tracker.store.record import apply_snapshot
from tracker.tagging.tagger import Tagger
from tracker.web.app import Reader, create_app

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
RULE_NUMBER = "2026-99001"  # the demo's Federal Register rule (tracker/demo/site.py)
RULE_TITLE = "Revisions to License Exception ACA"


def build_reader_store(db: Path, tagger: Tagger) -> Path:
    result = CliRunner().invoke(cli, ["--db", str(db), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    now = datetime.now(UTC)
    hostile = Article(
        url="https://hostile.example/x",
        source="hostile",
        title=f"Nvidia H20 {HOSTILE}",
        text=f"Nvidia said {HOSTILE} about the H20 licence.",
        published_at=now,
        lang="en",
    )
    store = Store.open(db)
    tags = tagger.tag(hostile.title, hostile.text, "en")
    store.save_batch(hostile.source, [(hostile, tags)], now=now)
    change = {
        "list_code": "EL",
        "entry_id": "el-smic",
        "name": "Semiconductor Manufacturing International Corporation",
        "event": "revised",
        "citation": "91 FR 90001",
        "changed": ["addresses"],
    }
    apply_snapshot(store, "demo-lists", [], [change], now)
    store.close()
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(db: Path, tagger: Tagger) -> Iterator[str]:
    """The reader on ``db``, served by a real uvicorn on a loopback port; yields its base URL."""
    port = free_port()
    app = create_app(Reader(db, tagger, lambda: datetime.now(UTC)))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
