"""Source health: failures back off (capped at a day), 410 disables, success resets, staleness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytest_httpserver import HTTPServer

from tracker.ingest.health import is_stale, next_attempt
from tracker.ingest.http import Fetcher
from tracker.ingest.pipeline import run_fetch
from tracker.models import Source
from tracker.store import Store
from tracker.tagging.tagger import Tagger

from .helpers import rss

T0 = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def run(store: Store, fetcher: Fetcher, tagger: Tagger, source: Source, now: datetime, **kw):
    return run_fetch(store, fetcher, [source], tagger, now=lambda: now, **kw).sources[0]


def test_backoff_doubles_from_15_minutes_and_is_capped_at_a_day() -> None:
    waits = [next_attempt(n, T0) - T0 for n in (1, 2, 3, 4, 10, 50)]
    assert waits[:4] == [timedelta(minutes=m) for m in (15, 30, 60, 120)]
    assert waits[4] == waits[5] == timedelta(days=1)


def test_retry_after_wins_when_longer() -> None:
    assert next_attempt(1, T0, retry_after=7200) - T0 == timedelta(hours=2)
    assert next_attempt(1, T0, retry_after=10) - T0 == timedelta(minutes=15)
    assert next_attempt(1, T0, retry_after=10**7) - T0 == timedelta(days=1)


def test_a_failing_source_backs_off_and_is_skipped_until_then(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/f.xml").respond_with_data("", status=500)
    source = Source("flaky", "rss", httpserver.url_for("/f.xml"))
    assert run(store, fetcher, tagger, source, T0).error
    state = store.source_state("flaky")
    assert state["consecutive_failures"] == 1
    assert state["next_attempt_at"] == "2025-12-01T12:15:00+00:00"
    httpserver.clear_log()
    skipped = run(store, fetcher, tagger, source, T0 + timedelta(minutes=5))
    assert "backing off" in skipped.skipped
    assert httpserver.log == []  # nothing was requested
    assert run(store, fetcher, tagger, source, T0 + timedelta(minutes=20)).error  # due again: fails
    assert store.source_state("flaky")["consecutive_failures"] == 2
    assert store.source_state("flaky")["next_attempt_at"] == "2025-12-01T12:50:00+00:00"
    # --force tries anyway; success resets the count.
    httpserver.clear()
    httpserver.expect_request("/f.xml").respond_with_data(
        rss([{"title": "t", "link": "http://x.test/1"}])
    )
    ok = run(store, fetcher, tagger, source, T0 + timedelta(minutes=25), force=True)
    assert ok.error is None
    assert ok.new == 1
    state = store.source_state("flaky")
    assert (state["consecutive_failures"], state["next_attempt_at"]) == (0, None)
    assert state["last_success_at"] == state["last_new_at"] == "2025-12-01T12:25:00+00:00"


def test_429_with_retry_after_sets_the_next_attempt(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/f.xml").respond_with_data(
        "", status=429, headers={"Retry-After": "7200"}
    )
    source = Source("limited", "rss", httpserver.url_for("/f.xml"))
    fast = Fetcher(
        fetcher.session, fetcher.settings, sleep=lambda s: None
    )  # the in-run retry waits too
    run(store, fast, tagger, source, T0)
    assert store.source_state("limited")["next_attempt_at"] == "2025-12-01T14:00:00+00:00"


def test_410_gone_disables_the_source_until_it_is_enabled_again(
    httpserver: HTTPServer, store: Store, fetcher: Fetcher, tagger: Tagger
) -> None:
    httpserver.expect_request("/f.xml").respond_with_data("", status=410)
    source = Source("dead", "rss", httpserver.url_for("/f.xml"))
    run(store, fetcher, tagger, source, T0)
    assert "410 Gone" in store.source_state("dead")["disabled_reason"]
    later = run(store, fetcher, tagger, source, T0 + timedelta(days=3))
    assert later.skipped.startswith("disabled: HTTP 410 Gone")
    store.reset_source_state("dead")
    assert run(store, fetcher, tagger, source, T0 + timedelta(days=3)).error  # tried again


def test_staleness_after_14_days_without_new_articles() -> None:
    now = datetime(2025, 12, 20, tzinfo=UTC)
    assert is_stale("2025-12-01T00:00:00+00:00", None, now)
    assert not is_stale("2025-12-10T00:00:00+00:00", None, now)
    assert is_stale(None, "2025-11-01T00:00:00+00:00", now)  # never produced anything
    assert not is_stale(None, None, now)
