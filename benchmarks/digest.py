"""The digest at scale: build and send every subscriber's digest over a busy day.

    python benchmarks/digest.py [--articles 50000] [--subscribers 200] [--db PATH]

Generates N articles first seen within the last 24 hours (the story generator of
benchmarks/stories.py: events carried by one to eight outlets, copies, rewrites and Chinese
translations), tags them, places them into stories (a rebuild), then builds and sends a digest
to each of S subscribers, whose filters differ (tags, OR of tags, words, Chinese words, a
language, none), to an SMTP server on loopback (aiosmtpd, in this process's thread) that accepts
every message. Reports the time to build and send all of them, per digest, and the peak memory.

Goal (issue 7): at most 30 s for 50,000 articles and 200 subscribers.
"""

from __future__ import annotations

import argparse
import platform
import random
import resource
import socket
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stories import NOW, articles

from tracker.config.digest import DigestSettings, Subscriber
from tracker.config.stories import StoryRules
from tracker.digest.mail import SmtpSettings
from tracker.digest.send import prepare, send_all
from tracker.store import Store
from tracker.stories.rebuild import rebuild
from tracker.tagging.tagger import Tagger, relevance
from tracker.tagging.vocabulary import load_vocabulary

FILTERS = [
    "",
    "company:nvidia",
    "company:nvidia OR policy:entity-list",
    "chip:h20 OR chip:h200",
    "company:asml OR company:tokyo-electron",
    "material:gallium OR material:rare-earths",
    "licence",
    "实体清单",
    "英伟达",
    "lang:zh",
    "company:huawei",
    "policy:affiliates-rule OR company:applied-materials",
    "company:samsung OR company:sk-hynix",
    "company:amd chip:mi308",
    "mofcom",
]
ZONES = ["UTC", "Europe/Berlin", "Asia/Shanghai", "America/New_York", "Asia/Tokyo"]


class _Accept:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.bytes += len(envelope.original_content)
        return "250 OK"


def build(path: Path, n: int, tagger: Tagger) -> None:
    store = Store.open(path)
    weights = tagger.weights()
    batch = []
    rng = random.Random(7)
    for a in articles(n, seed=11):
        hits = tagger.tag(a.title, a.text, a.lang)
        a.relevance = relevance(hits, weights)
        a.published_at = NOW - timedelta(seconds=rng.randint(0, 86_000))
        batch.append((a, hits))
        if len(batch) == 1000:
            # first seen spread over the day, batch by batch
            seen = NOW - timedelta(seconds=rng.randint(60, 86_000))
            store.save_batch("bench", batch, now=seen)
            batch = []
    if batch:
        store.save_batch("bench", batch, now=NOW - timedelta(minutes=5))
    rebuild(store, StoryRules(), now=NOW)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--db", type=Path, help="keep the generated store here")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    tagger = Tagger(load_vocabulary())
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "digest.db"
        if not db.exists():
            started = time.perf_counter()
            print(f"generating {args.articles:,} articles ...", flush=True)
            build(db, args.articles, tagger)
            print(f"  built in {time.perf_counter() - started:.0f} s (not timed below)")
        rng = random.Random(3)
        subscribers = [
            Subscriber(
                email=f"reader{i:03d}@example.org",
                name=f"Reader {i}",
                filter=FILTERS[i % len(FILTERS)],
                lang="zh" if i % 4 == 0 else "en",
                timezone=rng.choice(ZONES),
            )
            for i in range(args.subscribers)
        ]
        handler = _Accept()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            smtp = SmtpSettings(
                host="127.0.0.1", port=port, sender="bench@example.org", security="none"
            )
            store = Store.open(db)
            with store.db.atomic():  # a kept --db: forget earlier runs' sends
                store.db.execute("DELETE FROM digest_items")
                store.db.execute("DELETE FROM digest_sends")
            in_window = store.db.conn.execute(
                "SELECT count(*) FROM articles WHERE first_seen_at >= ?",
                [(NOW - timedelta(hours=24)).isoformat(timespec="seconds")],
            ).fetchone()[0]
            started = time.perf_counter()
            prepared = prepare(
                store,
                DigestSettings(),
                subscribers,
                now=NOW,
                sender=smtp.sender,
                expand=tagger.lookup,
                covers=tagger.covers,
            )
            outcomes = send_all(store, prepared, smtp, now=NOW)
            seconds = time.perf_counter() - started
        finally:
            controller.stop()
    sent = sum(1 for o in outcomes if o.status == "sent")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print("| articles in the window | subscribers | digests sent | total s | ms per digest |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {in_window:,} | {len(subscribers)} | {sent} | {seconds:.1f} | "
        f"{seconds / len(subscribers) * 1000:.0f} |"
    )
    print(
        f"\nserver accepted {handler.count} messages, {handler.bytes / 1e6:.1f} MB in all; "
        f"peak memory {peak:.0f} MB; failures: {sum(1 for o in outcomes if o.status == 'failed')}"
    )


if __name__ == "__main__":
    main()
