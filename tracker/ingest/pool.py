"""Where page decoding and extraction run: in this process, or in a pool of worker processes.

trafilatura is pure-Python-heavy, so threads cannot run two extractions at once (the GIL); on a
backfill of hundreds of pages a process pool uses the other cores while this process fetches,
tags and stores. Small runs, the usual cron case, stay in-process: starting workers costs about
half a second each.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from tracker.ingest.extract import Extracted, extract_article
from tracker.ingest.sources.decode import decode_bytes

EXTRACTION_POOL_MIN = 64  # pages in one run before a pool pays for its start-up


def decode_and_extract(
    content: bytes, charset: str | None, url: str, today: date
) -> Extracted | None:
    """Decode a page and extract its article (raises ParseError for undecodable bytes)."""
    return extract_article(decode_bytes(content, charset), url, today=today)


def _watch_parent(parent: int) -> None:
    """In a worker: exit as soon as the parent is gone.

    A worker killed with its parent's SIGKILL never hears of it: it waits on the task pipe, whose
    write end it holds itself, so it would wait (and hold its memory) forever.
    """
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _worker_init(parent: int) -> None:
    # Ctrl-C reaches the whole process group; the parent decides how the run ends, so a worker
    # neither prints a traceback nor dies with its task half-done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class Extractor:
    """Runs :func:`decode_and_extract`, in a process pool once ``use_pool`` has been asked for."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # sources running in threads may ask for the pool at once

    def use_pool(self, pages: int) -> None:
        """Start the pool if ``pages`` pages are coming and there is more than one core."""
        with self._lock:
            if self._pool is None and self.workers > 1 and pages >= EXTRACTION_POOL_MIN:
                # spawn, not fork: this process already runs fetch threads.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=_worker_init,
                    initargs=(os.getpid(),),
                )

    @property
    def pooled(self) -> bool:
        return self._pool is not None

    @property
    def pool(self) -> ProcessPoolExecutor | None:
        """The worker pool, when one was started (other CPU-heavy stages may borrow it)."""
        return self._pool

    def __call__(
        self, content: bytes, charset: str | None, url: str, today: date
    ) -> Extracted | None:
        if self._pool is None:
            return decode_and_extract(content, charset, url, today)
        return self._pool.submit(decode_and_extract, content, charset, url, today).result()

    def close(self, cancel: bool = False) -> None:
        """Stop the workers; with ``cancel``, drop queued work instead of finishing it."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
