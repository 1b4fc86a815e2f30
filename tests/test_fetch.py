"""The fetcher against a real HTTP server on loopback."""

from __future__ import annotations

import gzip
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker.config.load import Settings
from tracker.errors import FetchError
from tracker.ingest.http import Fetcher, make_session


def make(settings: Settings, sleeps=None) -> Fetcher:
    if sleeps is None:
        return Fetcher(make_session(settings), settings)
    return Fetcher(make_session(settings), settings, clock=sleeps.clock, sleep=sleeps.sleep)


def test_sends_a_user_agent_with_contact_url(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/a").respond_with_data("ok")
    fetcher.fetch(httpserver.url_for("/a"))
    request, _ = httpserver.log[-1]
    assert "tracker/" in request.headers["User-Agent"]
    assert "+https://" in request.headers["User-Agent"]


def test_conditional_get_sends_validators_and_reports_304(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    httpserver.expect_request(
        "/feed.xml",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 12 Aug 2025 09:00:00 GMT"},
    ).respond_with_data("", status=304)
    result = fetcher.fetch(
        httpserver.url_for("/feed.xml"), etag='"v1"', last_modified="Tue, 12 Aug 2025 09:00:00 GMT"
    )
    assert result.not_modified
    assert result.content == b""


def test_returns_validators_from_the_response(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/f").respond_with_data(
        "x", headers={"ETag": '"abc"', "Last-Modified": "Wed, 13 Aug 2025 10:00:00 GMT"}
    )
    result = fetcher.fetch(httpserver.url_for("/f"))
    assert (result.etag, result.last_modified) == ('"abc"', "Wed, 13 Aug 2025 10:00:00 GMT")


def test_robots_txt_disallow_is_obeyed_and_read_once_per_host(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /private/\n"
    )
    httpserver.expect_request("/public").respond_with_data("ok")
    with pytest.raises(FetchError, match=r"robots\.txt"):
        fetcher.fetch(httpserver.url_for("/private/page"))
    fetcher.fetch(httpserver.url_for("/public"))
    fetcher.fetch(httpserver.url_for("/public"))
    paths = [req.path for req, _ in httpserver.log]
    assert paths.count("/robots.txt") == 1
    assert "/private/page" not in paths


def test_missing_robots_txt_allows_everything(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/page").respond_with_data(
        "ok"
    )  # /robots.txt answers 500 (no handler)
    assert fetcher.fetch(httpserver.url_for("/page")).content == b"ok"


def test_per_host_interval_waits_between_requests_to_one_host(
    httpserver: HTTPServer, settings: Settings, sleeps
) -> None:
    fetcher = make(replace(settings, min_interval=2.0, obey_robots=False), sleeps)
    httpserver.expect_request("/a").respond_with_data("ok")
    fetcher.fetch(httpserver.url_for("/a"))
    fetcher.fetch(httpserver.url_for("/a"))
    assert sleeps.waits == [2.0]
    # Another host name is another host: no wait.
    other = httpserver.url_for("/a").replace("localhost", "127.0.0.1")
    fetcher.fetch(other)
    assert sleeps.waits == [2.0]
    # A source's own interval overrides the default.
    fetcher.fetch(httpserver.url_for("/a"), min_interval=5.0)
    assert sleeps.waits == [2.0, 5.0]


def test_retries_after_503_honouring_retry_after_seconds(
    httpserver: HTTPServer, settings: Settings, sleeps
) -> None:
    fetcher = make(replace(settings, retries=2, obey_robots=False), sleeps)
    httpserver.expect_ordered_request("/busy").respond_with_data(
        "", status=503, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/busy").respond_with_data("finally")
    assert fetcher.fetch(httpserver.url_for("/busy")).content == b"finally"
    assert sleeps.waits == [7.0]


def test_retry_after_as_http_date(httpserver: HTTPServer, settings: Settings, sleeps) -> None:
    fetcher = make(replace(settings, retries=1, obey_robots=False), sleeps)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    httpserver.expect_ordered_request("/limited").respond_with_data(
        "", status=429, headers={"Retry-After": when}
    )
    httpserver.expect_ordered_request("/limited").respond_with_data("ok")
    fetcher.fetch(httpserver.url_for("/limited"))
    assert len(sleeps.waits) == 1
    assert 25 <= sleeps.waits[0] <= 30


def test_backs_off_exponentially_without_retry_after(
    httpserver: HTTPServer, settings: Settings, sleeps
) -> None:
    fetcher = make(replace(settings, retries=3, backoff=1.0, obey_robots=False), sleeps)
    httpserver.expect_request("/down").respond_with_data("", status=500)
    with pytest.raises(FetchError) as info:
        fetcher.fetch(httpserver.url_for("/down"))
    assert info.value.status == 500
    assert "server error" in info.value.reason
    assert sleeps.waits == [1.0, 2.0, 4.0]


def test_retry_after_is_capped(httpserver: HTTPServer, settings: Settings, sleeps) -> None:
    fetcher = make(replace(settings, retries=1, max_retry_wait=60, obey_robots=False), sleeps)
    httpserver.expect_ordered_request("/x").respond_with_data(
        "", status=503, headers={"Retry-After": "86400"}
    )
    httpserver.expect_ordered_request("/x").respond_with_data("ok")
    fetcher.fetch(httpserver.url_for("/x"))
    assert sleeps.waits == [60.0]


@pytest.mark.parametrize(
    ("status", "words"), [(404, "404 Not Found"), (410, "410 Gone"), (403, "403")]
)
def test_client_errors_are_not_retried(
    httpserver: HTTPServer, fetcher: Fetcher, status: int, words: str
) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=status)
    with pytest.raises(FetchError, match=words) as info:
        fetcher.fetch(httpserver.url_for("/gone"))
    assert info.value.status == status
    assert sum(req.path == "/gone" for req, _ in httpserver.log) == 1


def test_body_over_the_cap_is_refused(httpserver: HTTPServer, settings: Settings) -> None:
    fetcher = make(replace(settings, max_body_mb=0.5))

    def streamed(_: Request) -> Response:
        # No Content-Length: the cap must hold while streaming.
        return Response((b"x" * 65536 for _ in range(20)), content_type="text/html")

    httpserver.expect_request("/big").respond_with_handler(streamed)
    with pytest.raises(FetchError, match=r"over the 0\.5 MiB cap"):
        fetcher.fetch(httpserver.url_for("/big"))


def test_declared_length_over_the_cap_is_refused_before_reading(
    httpserver: HTTPServer, settings: Settings
) -> None:
    fetcher = make(replace(settings, max_body_mb=0.5))
    httpserver.expect_request("/big").respond_with_data(b"y" * 600_000)
    with pytest.raises(FetchError, match="cap"):
        fetcher.fetch(httpserver.url_for("/big"))


def test_gzip_bomb_is_capped_on_decoded_size(httpserver: HTTPServer, settings: Settings) -> None:
    fetcher = make(replace(settings, max_body_mb=1))
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))  # 8 MiB that travels as ~8 KiB
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="cap"):
        fetcher.fetch(httpserver.url_for("/bomb"))


def test_gzip_body_is_decoded(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress("英伟达".encode()), headers={"Content-Encoding": "gzip"}
    )
    assert fetcher.fetch(httpserver.url_for("/gz")).content.decode() == "英伟达"


def test_redirects_are_followed_and_the_final_url_kept(
    httpserver: HTTPServer, fetcher: Fetcher
) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data("moved")
    result = fetcher.fetch(httpserver.url_for("/old"))
    assert result.content == b"moved"
    assert result.url.endswith("/new")


def test_redirect_loop_is_a_clear_error(httpserver: HTTPServer, fetcher: Fetcher) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher.fetch(httpserver.url_for("/a"))


def test_slow_server_times_out(httpserver: HTTPServer, settings: Settings) -> None:
    fetcher = make(replace(settings, read_timeout=0.3, retries=0, obey_robots=False))

    def slow(_: Request) -> Response:
        time.sleep(1.0)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(FetchError, match="timed out"):
        fetcher.fetch(httpserver.url_for("/slow"))


def test_refused_connection_is_a_clear_error(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="connection failed"):
        fetcher.fetch("http://127.0.0.1:9/nothing-listens-here")


def test_non_http_url_is_refused(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="not an http"):
        fetcher.fetch("file:///etc/passwd")
