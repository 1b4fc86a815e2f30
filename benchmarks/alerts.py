"""Alert latency: a list change on a loopback server to every alert accepted by a loopback SMTP
server, for 200 watchers and 1,000 watched entities.

    python benchmarks/alerts.py [--entries 5000] [--watchers 200]

A screening list of N entries is served from loopback (its own process) and an aiosmtpd server
runs in another process, recording when each message arrives. 200 subscribers each watch 5
entities (1,000 in all). After a baseline (first snapshot, alerts' first run), the list changes:
the first watched entity of every subscriber gets a new citation (200 list events). Then, as
whole processes timed from outside: `tracker -q fetch` (the fetch itself) and `tracker -q alerts
--send` (what comes beyond it); the latency is from the start of the fetch to the last message the
SMTP server accepted.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from multiprocessing import Process, Queue
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lists import HEADER, _row, run, setup

PER_WATCHER = 5


def smtp_server(log: str, ready: Queue) -> None:
    """Accept every message; append "<time> <recipient>" per message to ``log``."""
    import asyncio  # noqa: F401  (aiosmtpd's controller runs its own loop in a thread)

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            with open(log, "a", encoding="utf-8") as out:
                for rcpt in envelope.rcpt_tos:  # type: ignore[attr-defined]
                    out.write(f"{time.time()} {rcpt}\n")
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free port, as tests/smtp.py finds one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.put(port)
    while True:
        time.sleep(3600)


def listed(entries: int, revised: set[int]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i in range(entries):
        writer.writerow(_row(i, "90 FR 50000" if i in revised else "89 FR 10000"))
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--watchers", type=int, default=200)
    args = parser.parse_args()
    watched = [[w * PER_WATCHER + k for k in range(PER_WATCHER)] for w in range(args.watchers)]
    with tempfile.TemporaryDirectory() as tmp:
        home, served = Path(tmp) / "home", Path(tmp) / "served"
        home.mkdir()
        served.mkdir()
        server, _, env = setup(home, served, args.entries)
        (served / "list.csv").write_bytes(listed(args.entries, set()))
        arrivals = Path(tmp) / "arrivals.log"
        arrivals.touch()
        ready: Queue = Queue()
        smtp = Process(target=smtp_server, args=(str(arrivals), ready), daemon=True)
        smtp.start()
        smtp_port = ready.get(timeout=20)
        config = (home / "tracker.toml").read_text(encoding="utf-8")
        for w, ids in enumerate(watched):
            entries = ", ".join(f'"entity:example-trading-{i}"' for i in ids)
            config += f'\n[[digest.subscribers]]\nemail = "w{w}@example.org"\nwatch = [{entries}]\n'
        (home / "tracker.toml").write_text(config, encoding="utf-8")
        env = {
            **env,
            "TRACKER_SMTP_HOST": "127.0.0.1",
            "TRACKER_SMTP_PORT": str(smtp_port),
            "TRACKER_SMTP_SECURITY": "none",
            "TRACKER_MAIL_FROM": "tracker@example.org",
        }
        tracker = [sys.executable, "-m", "tracker", "-q"]
        run([*tracker, "fetch"], env)
        run([*tracker, "alerts", "--send"], env)  # the baseline: marks set, nothing sent
        (served / "list.csv").write_bytes(listed(args.entries, {ids[0] for ids in watched}))
        started = time.time()
        fetch_s, fetch_mib, _ = run([*tracker, "fetch"], env)
        alerts_s, alerts_mib, _ = run([*tracker, "alerts", "--send"], env)
        time.sleep(0.5)
        times = [float(line.split()[0]) for line in arrivals.read_text().splitlines()]
        again_s, _, _ = run([*tracker, "alerts", "--send"], env)
        repeats = len(arrivals.read_text().splitlines()) - len(times)
        sent = json.loads(
            subprocess.run(
                [*tracker, "alerts", "list", "--since", "1d", "-f", "json"],
                env=env, capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
        smtp.terminate()
        server.terminate()
    print(f"{args.watchers} watchers x {PER_WATCHER} entities, {args.entries}-entry list, "
          f"{len(watched)} list events after the change")  # fmt: skip
    print("| step | seconds | peak MiB |\n| --- | ---: | ---: |")
    print(
        f"| `tracker fetch` (the change: diff, entities, linking) | {fetch_s:.2f} | {fetch_mib:.0f} |"
    )
    print(f"| `tracker alerts --send` (beyond the fetch) | {alerts_s:.2f} | {alerts_mib:.0f} |")
    print(f"| `tracker alerts --send` again (nothing to send) | {again_s:.2f} | |")
    last = max(times) - started if times else float("nan")
    print(f"messages accepted: {len(times)}; alerts recorded: {len(sent)}; sent again: {repeats}; "
          f"from the fetch's start to the last message accepted: {last:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
