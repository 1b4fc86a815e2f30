"""What a fetch tells cron and a person when nothing could be fetched: every source backing off
(a distinct exit code, when the next attempt is, --force), the machine offline (said once, no
retries, no backoff), and progress that never shows a failed source as a full green bar."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from rich.console import Console
from rich.progress import Progress

from tracker.cli import cli
from tracker.cli.fetching import NOTHING_DUE
from tracker.cli.progress import RichProgress
from tracker.config.load import Settings
from tracker.errors import FetchError
from tracker.ingest.http import Fetcher, make_session
from tracker.ingest.pipeline import SourceReport

from .conftest import Sleeps


@pytest.fixture
def no_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose resolver answers nothing but loopback, as offline: every other name
    fails as glibc fails it (socket.gaierror), and no test query leaves the machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host in ("127.0.0.1", "localhost", "::1"):
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def config(tmp_path: Path, urls: dict[str, str]) -> None:
    text = "[settings]\nmin_interval = 0\nretries = 2\nbackoff = 0.01\n"
    for name, url in urls.items():
        text += f'\n[[sources]]\nname = "{name}"\nkind = "rss"\nurl = "{url}"\n'
    (tmp_path / "tracker.toml").write_text(text, encoding="utf-8")


def test_when_every_source_is_backing_off_fetch_says_when_and_exits_75(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/a.xml").respond_with_data("", status=500)
    httpserver.expect_request("/b.xml").respond_with_data("", status=503)
    config(tmp_path, {"a": httpserver.url_for("/a.xml"), "b": httpserver.url_for("/b.xml")})
    first = invoke("fetch")
    assert first.exit_code == 1  # they failed: backing off from now on
    second = invoke("fetch")
    assert second.exit_code == NOTHING_DUE
    last = " ".join(second.stderr.strip().splitlines()[-2:])
    assert "nothing fetched: all 2 sources are backing off" in last
    assert "UTC (in 15 min)" in last
    assert "tracker fetch --force" in last
    quiet = invoke("-q", "fetch")
    assert quiet.exit_code == NOTHING_DUE
    assert "nothing fetched" in quiet.stderr  # cron's mail says it, even with -q
    forced = invoke("fetch", "--force")
    assert forced.exit_code == 1  # tried again, and failed again: a failure, not "nothing due"


@pytest.mark.usefixtures("no_resolver")
def test_an_offline_machine_is_named_once_and_nothing_backs_off(tmp_path: Path) -> None:
    names = {f"s{i}": f"http://feed{i}.tracker.invalid/rss" for i in range(5)}
    config(tmp_path, names)
    result = invoke("fetch")
    assert result.exit_code == 1
    assert result.stderr.count("looks offline") == 1
    assert "none of the 5 sources' host names\nresolved (DNS)" in result.stderr
    assert "feed3.tracker.invalid" not in result.stderr  # not a line per source
    status = invoke("sources", "status", "-f", "json")
    assert {row["state"] for row in json.loads(status.stdout)} == {"failing"}
    again = invoke("fetch")  # no backoff: the next run tries every source again
    assert again.exit_code == 1
    assert "looks offline" in again.stderr


@pytest.mark.usefixtures("no_resolver")
def test_a_name_that_does_not_resolve_is_not_retried(sleeps: Sleeps) -> None:
    settings = Settings(retries=3, backoff=1.0, min_interval=0.0)
    fetcher = Fetcher(make_session(settings), settings, clock=sleeps.clock, sleep=sleeps.sleep)
    with pytest.raises(FetchError, match=r"cannot resolve nowhere\.tracker\.invalid") as caught:
        fetcher.fetch("http://nowhere.tracker.invalid/feed.xml")
    assert caught.value.unresolved
    assert sleeps.waits == []  # no retry waits


def test_a_failed_or_skipped_source_never_gets_a_full_bar() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=80)
    with Progress(console=console) as bar:
        progress = RichProgress(bar)
        for name in ("ok", "broken", "resting"):
            progress.start(name, 0)  # shown at once, size unknown
        assert all(t.total is None for t in bar.tasks)
        progress.start("ok", 3)
        for _ in range(3):
            progress.advance("ok")
        progress.finish(SourceReport("ok", new=3))
        progress.finish(SourceReport("broken", error="HTTP 500"))
        progress.finish(SourceReport("resting", skipped="backing off"))
        done = {t.description: (t.completed, t.total) for t in bar.tasks}
    assert done["ok"] == (3, 3)
    assert done["[red]broken failed[/]"] == (0, 1)
    assert done["[yellow]resting (skipped)[/]"] == (0, 1)
