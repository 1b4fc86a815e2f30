"""A small threaded HTTP server on loopback that serves a site dict, with ETag/304 support."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tracker.demo.site import Response


@contextmanager
def serve_site(
    build: Callable[[str], dict[str, Response]], base: str | None = None
) -> Iterator[str]:
    """Serve ``build(base)`` on 127.0.0.1 at a free port; yields the loopback URL it is served
    at. Without ``base`` the site's links name that loopback URL itself; with one (the demo's
    fixed origin) a session connects there through ``make_session(connect_to=...)``."""
    site: dict[str, Response] = {}

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body are two writes: don't wait for an ACK

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            resp = site.get(path)
            if resp is None:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == resp.etag:
                self.send_response(304)
                self.send_header("ETag", resp.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            self.send_header("ETag", resp.etag)
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(resp.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the demo prints its own summary

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = f"http://127.0.0.1:{server.server_address[1]}"
    site.update(build(base or served))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
