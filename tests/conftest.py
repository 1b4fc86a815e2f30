"""Shared fixtures: an isolated TRACKER_HOME, a real SQLite file, fast fetch settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tracker.config.load import Settings
from tracker.ingest.http import Fetcher, make_session
from tracker.store import Store
from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import load_vocabulary

pytest_plugins = ["tests.smtp", "tests.hostile"]  # loopback SMTP (inbox, smtp_env) and hostile HTTP


@pytest.fixture(autouse=True)
def tracker_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test sees real config, data or proxies."""
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path))
    for var in (
        "TRACKER_DB",
        "TRACKER_CONFIG",
        "TRACKER_RAISE_ERRORS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return tmp_path


@pytest.fixture
def settings() -> Settings:
    """Fast settings: no per-host wait, one quick retry, short timeouts."""
    return Settings(min_interval=0.0, retries=1, backoff=0.01, connect_timeout=2, read_timeout=2)


@pytest.fixture
def fetcher(settings: Settings) -> Fetcher:
    return Fetcher(make_session(settings), settings)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "test.db")
    yield s
    s.close()


@pytest.fixture(scope="session")
def tagger() -> Tagger:
    return Tagger(load_vocabulary())


class Sleeps:
    """A fake clock and sleep: records every wait and advances time instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def threaded_httpserver() -> Iterator[HTTPServer]:
    """A loopback server that answers requests in parallel (one slow handler blocks nothing)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
