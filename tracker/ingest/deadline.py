"""A whole-request deadline for requests, which only has per-read timeouts.

A server that trickles its body (one byte a second) never trips a read timeout: every read gets a
byte in time. So each request made inside :func:`deadline` is watched by a timer; when the time is
up the timer shuts the request's socket down, the blocked read returns, and the request fails.

The socket is found through the session's adapter (:class:`DeadlineAdapter`), whose connections
tell the thread's current watch which socket they are about to read the answer from.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Watch:
    """One request's deadline: fires once, shutting down the socket the answer comes on."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def arm(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shutdown()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._sock is not None:
            # socket.socket.shutdown, not SSLSocket.shutdown: the TLS object belongs to the
            # reading thread; shutting the descriptor makes its blocked read return at once.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Watch]:
    """Watch the requests this thread makes until the block ends; ``watch.fired`` tells whether
    the deadline cut one short."""
    watch = Watch(seconds)
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    watch.start()
    try:
        yield watch
    finally:
        watch.cancel()
        _current.watch = previous


class _Watched:
    """Mixin for urllib3 connections: hand the socket to the thread's watch before reading."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        watch: Watch | None = getattr(_current, "watch", None)
        if watch is not None:
            watch.arm(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with connections that :func:`deadline` can cut short."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager
