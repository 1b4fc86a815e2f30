"""HTTP for every source: politeness (robots.txt, a per-host interval), retries, caps, validators.

All network access goes through :class:`Fetcher`, which is handed a ``requests.Session`` and a clock so
tests drive it against a loopback server without waiting for real seconds where they need not.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from protego import Protego

from tracker.config.load import Settings
from tracker.errors import FetchError
from tracker.ingest.deadline import DeadlineAdapter, deadline
from tracker.ingest.sources.decode import header_charset

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024


@dataclass
class FetchResult:
    """What one GET brought back. ``content`` is empty when ``not_modified``."""

    url: str  # the final URL, after redirects
    status: int
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def charset(self) -> str | None:
        """The charset named in Content-Type, if any."""
        return header_charset(self.headers.get("content-type", ""))


def make_session(settings: Settings, connect_to: dict[str, str] | None = None) -> requests.Session:
    """A session that identifies itself; every call still passes its own timeout.

    ``connect_to`` maps an origin (``http://news.demo.test``) to the one actually connected to
    (``http://127.0.0.1:8123``), as curl's ``--connect-to``: URLs, ids and robots.txt keep the
    first, so the demo's articles have the same ids whatever port it was served on.
    """
    session = requests.Session()
    session.headers["User-Agent"] = settings.user_agent
    session.headers["Accept-Encoding"] = "gzip, deflate"
    session.max_redirects = 10
    adapter = DeadlineAdapter()  # lets Fetcher cut a request off at its whole-request deadline
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    for origin, target in (connect_to or {}).items():
        session.mount(origin.rstrip("/") + "/", _ConnectTo(origin.rstrip("/"), target.rstrip("/")))
    return session


class _ConnectTo(DeadlineAdapter):
    """Sends requests for one origin to another, and answers as the first."""

    def __init__(self, origin: str, target: str) -> None:
        super().__init__()
        self.origin, self.target = origin, target

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        asked = request.url or ""
        request.url = self.target + asked[len(self.origin) :]
        response = super().send(request, stream, timeout, verify, cert, proxies)
        response.url = asked
        request.url = asked
        return response


class Fetcher:
    """Polite GETs for one run.

    Args:
        session: the HTTP session (its User-Agent is the one robots.txt is read for).
        settings: timeouts, caps, retries and the default per-host interval.
        clock: monotonic seconds; sleep: waits. Both are injectable for tests.
    """

    def __init__(
        self,
        session: requests.Session,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self._robots: dict[str, Protego | None] = {}
        self._last_request: dict[str, float] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        min_interval: float | None = None,
    ) -> FetchResult:
        """GET ``url`` politely; a 304 comes back as a result with ``not_modified`` set.

        Raises:
            FetchError: robots.txt forbids it, the server failed after retries, a non-2xx answer,
                a redirect loop, a timeout, or a body over the cap.
        """
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(url, "not an http(s) URL")
        if self.settings.obey_robots and not self._allowed(url):
            raise FetchError(url, "disallowed by robots.txt")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        interval = self.settings.min_interval if min_interval is None else min_interval
        attempt = 0
        while True:
            self._wait_for_host(url, interval)
            try:
                result = self._get(url, headers)
            except FetchError as exc:
                # A dropped connection or timeout may pass; a cap or a redirect loop will not.
                transient = exc.status is None and exc.reason.startswith(
                    ("connection", "timed out")
                )
                if transient and attempt < self.settings.retries:
                    self._backoff(attempt, None, url)
                    attempt += 1
                    continue
                raise
            if result.status in RETRY_STATUSES and attempt < self.settings.retries:
                self._backoff(attempt, result.headers.get("retry-after"), url)
                attempt += 1
                continue
            if result.status == 304 or 200 <= result.status < 300:
                return result
            raise FetchError(
                url,
                _status_reason(result.status),
                status=result.status,
                retry_after=_parse_retry_after(result.headers.get("retry-after")),
            )

    def _get(self, url: str, headers: dict[str, str]) -> FetchResult:
        limit = self.settings.request_deadline
        with deadline(limit) as watch:
            try:
                return self._read(url, headers)
            except Exception:  # a cut socket surfaces as whatever the read was doing
                if not watch.fired:
                    raise
        # Not "timed out ...": a server this slow is not retried within the run.
        raise FetchError(url, f"too slow: no complete answer within {limit:g}s (request_deadline)")

    def _read(self, url: str, headers: dict[str, str]) -> FetchResult:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        cap = self.settings.max_body_bytes
        started = self.clock()
        try:
            with self.session.get(url, headers=headers, timeout=timeout, stream=True) as resp:
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > cap:
                    raise FetchError(url, f"body over the {_mb(cap)} cap", status=resp.status_code)
                body = bytearray()
                # iter_content decodes gzip, so the cap counts decoded bytes: a gzip bomb stops here.
                for chunk in resp.iter_content(CHUNK):
                    body += chunk
                    if len(body) > cap:
                        raise FetchError(
                            url, f"body over the {_mb(cap)} cap", status=resp.status_code
                        )
                return FetchResult(
                    url=resp.url,
                    status=resp.status_code,
                    content=bytes(body),
                    headers={k.lower(): v for k, v in resp.headers.items()},
                    elapsed=self.clock() - started,
                )
        except requests.TooManyRedirects as exc:
            raise FetchError(url, "redirect loop (more than 10 redirects)") from exc
        except requests.Timeout as exc:
            raise FetchError(url, f"timed out after {self.settings.read_timeout:g}s") from exc
        except requests.ConnectionError as exc:
            if _unresolved(exc):  # not retried: a name that did not resolve will not in a second
                host = urlsplit(url).hostname or url
                raise FetchError(
                    url, f"cannot resolve {host} (DNS lookup failed)", unresolved=True
                ) from exc
            raise FetchError(url, f"connection failed: {_root_cause(exc)}") from exc
        except requests.RequestException as exc:
            raise FetchError(url, f"request failed: {_root_cause(exc)}") from exc

    def _backoff(self, attempt: int, retry_after: str | None, url: str) -> None:
        wait = _parse_retry_after(retry_after)
        if wait is None:
            wait = self.settings.backoff * (2**attempt)
        wait = min(wait, self.settings.max_retry_wait)
        log.info("retrying %s in %.1fs (attempt %d)", url, wait, attempt + 2)
        self.sleep(wait)

    def _wait_for_host(self, url: str, interval: float) -> None:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            host_lock = self._host_locks.setdefault(host, threading.Lock())
        with host_lock:
            last = self._last_request.get(host)
            if last is not None and interval > 0:
                wait = last + interval - self.clock()
                if wait > 0:
                    self.sleep(wait)
            self._last_request[host] = self.clock()

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc.lower()}"
        with self._lock:
            base_lock = self._robots_locks.setdefault(base, threading.Lock())
        with base_lock:  # threads fetching one host read its robots.txt once, not each
            if base not in self._robots:
                self._robots[base] = self._load_robots(base)
        rules = self._robots[base]
        return rules is None or bool(rules.can_fetch(url, self.settings.user_agent))

    def _load_robots(self, base: str) -> Protego | None:
        """None means "no rules": a missing or unreadable robots.txt allows everything."""
        robots_url = base + "/robots.txt"
        self._wait_for_host(robots_url, self.settings.min_interval)
        try:
            result = self._get(robots_url, {})
        except FetchError as exc:
            if exc.unresolved:  # the page itself would fail the same way, a second later
                raise
            log.info("no robots.txt for %s (%s); fetching allowed", base, exc.reason)
            return None
        if result.status != 200:
            return None
        return Protego.parse(result.content.decode("utf-8", "replace"))


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _status_reason(status: int) -> str:
    reasons = {
        404: "HTTP 404 Not Found",
        410: "HTTP 410 Gone (the source was removed; disable it)",
        403: "HTTP 403 Forbidden (blocked; check the URL in a browser)",
        429: "HTTP 429 Too Many Requests (still limited after retries)",
    }
    if status in reasons:
        return reasons[status]
    if 500 <= status < 600:
        return f"HTTP {status} server error (still failing after retries)"
    return f"HTTP {status}"


def _unresolved(exc: BaseException) -> bool:
    """Whether a connection failed because its host name did not resolve (socket.gaierror),
    wherever in the chain requests and urllib3 wrapped it (a cause, or an argument)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += [a for a in current.args if isinstance(a, BaseException)]
        reason = getattr(current, "reason", None)  # urllib3's MaxRetryError keeps it here
        if isinstance(reason, BaseException):
            todo.append(reason)
    return False


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or (exc.args and isinstance(exc.args[0], BaseException)):
        exc = exc.__cause__ or exc.args[0]
    text = str(exc)
    return text.split("] ", 1)[-1][:160] if text else type(exc).__name__


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"
