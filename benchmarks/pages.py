"""Generated article pages and a loopback server for them, shared by the benchmarks.

Pages are made from a seed (the page number), so the server holds nothing: memory measured in the
client is the client's own.
"""

from __future__ import annotations

import html
import multiprocessing
import random
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EN_WORDS = [
    "the",
    "commerce",
    "department",
    "said",
    "on",
    "tuesday",
    "that",
    "new",
    "rules",
    "would",
    "require",
    "licences",
    "for",
    "exports",
    "of",
    "advanced",
    "chips",
    "and",
    "chipmaking",
    "equipment",
    "to",
    "china",
    "while",
    "officials",
    "added",
    "that",
    "companies",
    "on",
    "the",
    "entity",
    "list",
    "face",
    "a",
    "presumption",
    "of",
    "denial",
    "analysts",
    "expect",
    "suppliers",
    "to",
    "seek",
    "guidance",
    "and",
    "some",
    "revenue",
    "may",
    "shift",
    "to",
    "other",
    "markets",
    "over",
    "the",
    "coming",
    "quarters",
    "as",
    "customers",
    "adjust",
    "orders",
]
EN_TERMS = [
    "Nvidia",
    "AMD",
    "H20",
    "H200",
    "ASML",
    "SMIC",
    "Huawei",
    "Entity List",
    "gallium",
    "BIS",
    "TSMC",
]
ZH_CHARS = (
    "美国商务部表示新的规定将要求向中国出口先进芯片和制造设备须申请许可证"
    "官员补充说被列入清单的企业将面临推定拒绝分析人士预计供应商会寻求指引"
)
ZH_TERMS = ["英伟达", "华为", "实体清单", "出口管制", "稀土", "镓", "中芯国际", "台積電", "輝達"]


def page(i: int) -> str:
    rnd = random.Random(i)
    zh = i % 3 == 0
    paragraphs = []
    for _ in range(rnd.randint(5, 12)):
        if zh:
            text = "".join(rnd.choice(ZH_CHARS) for _ in range(rnd.randint(60, 160)))
            text = text[:20] + rnd.choice(ZH_TERMS) + text[20:] + "。"
        else:
            words = [rnd.choice(EN_WORDS) for _ in range(rnd.randint(40, 110))]
            words.insert(rnd.randrange(len(words)), rnd.choice(EN_TERMS))
            text = " ".join(words).capitalize() + "."
        paragraphs.append(f"<p>{html.escape(text)}</p>")
    title = f"Story {i}: " + " ".join(rnd.choice(EN_WORDS) for _ in range(8))
    day = (datetime(2025, 1, 1) + timedelta(days=i % 300)).date().isoformat()
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(40))
    related = "".join(
        f'<li><a href="/p/{rnd.randrange(10**6)}">Samsung and Micron story {k}</a></li>'
        for k in range(15)
    )
    return (
        f'<!DOCTYPE html><html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="article:published_time" content="{day}T08:00:00Z">'
        f"<script>{'var x=1;' * 400}</script><style>{'.a{color:red}' * 300}</style></head><body>"
        f'<header><ul class="nav">{nav}</ul></header><div class="cookie">We use cookies. Accept all</div>'
        f"<article><h1>{title}</h1>{''.join(paragraphs)}</article>"
        f"<aside><h3>Related</h3><ul>{related}</ul></aside><footer>© Bench News</footer></body></html>"
    )


def feed(base: str, count: int) -> str:
    when = format_datetime(datetime(2025, 12, 1, tzinfo=UTC), usegmt=True)
    items = "".join(
        f"<item><title>Story {i}</title><link>{base}/a/{i}</link><pubDate>{when}</pubDate>"
        f"<description>Summary {i}</description></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{items}</channel></rss>'


def _serve(port_queue: multiprocessing.Queue, count: int, delay: float) -> None:  # type: ignore[type-arg]
    # Rendered before serving: during a measured run the server only answers, so the CPU it
    # takes from the measured process is the HTTP work alone.
    rendered = [page(i).encode() for i in range(count)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; with Nagle on, a kept-alive client waits ~40 ms
        # for the delayed ACK between them, which would measure TCP, not tracker.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if delay:
                time.sleep(delay)
            host = self.headers.get("Host", "127.0.0.1")
            if self.path.startswith("/a/"):
                i = int(self.path[3:])
                body = rendered[i] if i < count else page(i).encode()
                ctype = "text/html; charset=utf-8"
            elif self.path.startswith("/feed"):
                body, ctype = feed(f"http://{host}", count).encode(), "application/rss+xml"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def start_server(count: int, delay: float = 0.0) -> tuple[multiprocessing.Process, str]:
    """A page server in its own process; returns it and its base URL."""
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    proc = multiprocessing.Process(target=_serve, args=(queue, count, delay), daemon=True)
    proc.start()
    port = queue.get(timeout=10)
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    return proc, f"http://127.0.0.1:{port}"
