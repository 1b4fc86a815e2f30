"""A hostile HTTP server on loopback: raw sockets, so it can misbehave below what werkzeug allows.

Paths choose the misbehaviour:

* ``/trickle/<n>``: valid headers, then an RSS body of ``n`` items one byte per ``trickle_gap``
  seconds (every read gets a byte in time, so no read timeout ever fires);
* ``/silent``: accepts the connection and never answers;
* ``/bomb``: a small gzip body that inflates to ``bomb_mb`` MiB;
* ``/entities``: an XML feed whose entities expand a billion times ("billion laughs");
* ``/bytes/<name>``: the body registered in ``bodies[name]`` with its content type.

Also usable from scripts (``benchmarks/faults.py``): ``HostileServer().start()``.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from .helpers import rss


@dataclass
class HostileServer:
    trickle_gap: float = 0.2
    bomb_mb: int = 200
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    port: int = 0
    _sock: socket.socket | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> HostileServer:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            path = request.split(b" ", 2)[1].decode("ascii", "replace")
            self._answer(conn, path)
        except OSError:
            pass
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, path: str) -> None:
        if path == "/robots.txt":
            conn.sendall(_head(404, "text/plain", 0))
        elif path.startswith("/trickle/"):
            body = feed_body(int(path.rsplit("/", 1)[1]), "trickle")
            conn.sendall(_head(200, "application/rss+xml", len(body)))
            for i in range(len(body)):
                if self._stop.wait(self.trickle_gap):
                    return
                conn.sendall(body[i : i + 1])
        elif path == "/silent":
            self._stop.wait(600)
        elif path == "/bomb":
            body = gzip.compress(b"<rss>" + b" " * (self.bomb_mb * 1024 * 1024), compresslevel=9)
            conn.sendall(_head(200, "application/rss+xml", len(body), "Content-Encoding: gzip\r\n"))
            conn.sendall(body)
        elif path == "/entities":
            body = ENTITY_BOMB.encode()
            conn.sendall(_head(200, "application/rss+xml", len(body)) + body)
        elif path.startswith("/bytes/") and path[7:] in self.bodies:
            body, content_type = self.bodies[path[7:]]
            conn.sendall(_head(200, content_type, len(body)) + body)
        else:
            conn.sendall(_head(404, "text/plain", 0))


def _head(status: int, content_type: str, length: int, extra: str = "") -> bytes:
    reason = {200: "OK", 404: "Not Found"}[status]
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n{extra}\r\n"
    ).encode()


def feed_body(n: int, prefix: str) -> bytes:
    items = [
        {
            "title": f"Entity List update {i}",
            "link": f"http://hostile.test/{prefix}/{i}",
            "description": f"BIS adds firms to the Entity List ({i}).",
        }
        for i in range(n)
    ]
    return rss(items).encode()


ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><rss version="2.0"><channel><title>t</title><item><title>&j;</title>'
    "<link>http://hostile.test/laughs</link></item></channel></rss>"
)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    yield server
    server.stop()


def wait_for(predicate: object, timeout: float = 30.0) -> bool:
    """Poll ``predicate()`` until true (for tests that watch another process)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False
