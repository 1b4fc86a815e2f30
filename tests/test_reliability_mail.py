"""Exactly once when things go wrong around the send: a busy database, bad addresses, a server
that says 421 or goes away (issue 11: defects 2 and 10). Real SMTP on loopback, the real CLI."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tracker.cli import cli
from tracker.tagging.tagger import Tagger

from .hostile import HostileServer
from .smtp import Inbox
from .test_digest import _fill

EMAILS = [f"reader{i}@example.org" for i in range(5)]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, tagger: Tagger) -> Path:
    _fill(tmp_path / "tracker.db", tagger, datetime.now(UTC) - timedelta(hours=1))
    subs = "".join(f'[[digest.subscribers]]\nemail = "{e}"\n\n' for e in EMAILS)
    (tmp_path / "tracker.toml").write_text(
        f"[digest]\nlate_hours = 2160\n\n{subs}", encoding="utf-8"
    )
    return tmp_path


class WriteLock:
    """Another process's write transaction on the store, taken from the SMTP server's thread."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        self.held = threading.Event()

    def take(self) -> None:
        if not self.held.is_set():
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("UPDATE sources SET lang = lang")
            self.held.set()

    def release(self) -> None:
        if self.held.is_set():
            self.conn.execute("COMMIT")
        self.conn.close()


def test_a_busy_database_costs_no_recipient_and_no_second_send(
    home: Path, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    lock = WriteLock(home / "tracker.db")
    inbox.on_message = lock.take  # the database turns busy once the first reader is mailed
    env = {**smtp_env, "TRACKER_BUSY_TIMEOUT": "0.5"}
    first = invoke("digest", "--send", env=env)
    assert first.exit_code == 0, first.output
    assert sorted(r[0] for r, _ in inbox.messages) == EMAILS  # all five, not only the first
    assert "Traceback" not in first.output
    assert "recorded by the next run" in first.stderr
    journal = home / "tracker.db.digest-journal"
    assert len(list(journal.glob("*.json"))) == 5  # busy from the first message on
    # While the lock is held, a second send refuses rather than mail anyone twice.
    again = invoke("digest", "--send", env=env)
    assert again.exit_code == 1
    assert "not yet recorded" in again.stderr
    lock.release()
    inbox.on_message = None
    third = invoke("digest", "--send", env=env)
    assert third.exit_code == 0, third.output
    assert third.output.count("skipped\t") == 5
    assert len(inbox.messages) == 5
    with sqlite3.connect(home / "tracker.db") as conn:
        sent = conn.execute("SELECT count(*) FROM digest_sends WHERE status = 'sent'").fetchone()
    assert sent == (5,)
    assert not list(journal.glob("*.json"))


def test_a_subscriber_address_with_a_trailing_newline_is_refused_at_load(
    home: Path, smtp_env: dict[str, str]
) -> None:
    path = home / "tracker.toml"
    path.write_text('[[digest.subscribers]]\nemail = "ana@example.org\\n"\n', encoding="utf-8")
    result = invoke("digest", "--send", env=smtp_env)
    assert result.exit_code == 2
    assert "needs a valid email" in result.stderr


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('[digest]\nsubject = "Daily\\r\\nBcc: x@evil.test"\n', "subject holds a control"),
        ('[[digest.subscribers]]\nemail = "a@example.org"\nname = "A\\r\\nB"\n', "name holds"),
        ('[[digest.subscribers]]\nemail = "a@example.org"\nfilter = "smic\\u0000"\n', "filter"),
    ],
)
def test_control_characters_in_config_texts_are_refused(home: Path, toml: str, says: str) -> None:
    (home / "tracker.toml").write_text(toml, encoding="utf-8")
    result = invoke("digest")
    assert result.exit_code == 2
    assert says in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("to", ["ana@example.org\r\nBcc: x@evil.test", "not-an-address"])
def test_to_must_be_one_address(home: Path, smtp_env: dict[str, str], to: str) -> None:
    result = invoke("digest", "--send", "--to", to, env=smtp_env)
    assert result.exit_code == 2
    assert "is not an email address" in result.stderr


def test_a_421_fails_each_recipient_once_and_the_next_run_sends_them(
    home: Path, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    inbox.code = "421 4.3.0 shutting down"
    first = invoke("digest", "--send", env=smtp_env)
    assert first.exit_code == 1
    assert "Traceback" not in first.output
    assert not inbox.messages
    inbox.code = ""
    second = invoke("digest", "--send", env=smtp_env)
    assert second.exit_code == 0, second.output
    assert sorted(r[0] for r, _ in inbox.messages) == EMAILS


def test_a_server_that_is_gone_fails_in_one_line(home: Path, smtp_env: dict[str, str]) -> None:
    env = {**smtp_env, "TRACKER_SMTP_PORT": "1"}  # nothing listens there
    result = invoke("digest", "--send", env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "cannot send through" in result.stderr


def test_run_sends_the_digest_although_a_source_trickles(
    home: Path, smtp_env: dict[str, str], inbox: Inbox, hostile: HostileServer
) -> None:
    with (home / "tracker.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            "\n[settings]\nmin_interval = 0\nretries = 0\nread_timeout = 2\nrequest_deadline = 2\n"
            f'\n[[sources]]\nname = "slow"\nkind = "rss"\nurl = "{hostile.url("/trickle/20")}"\n'
        )
    result = invoke("run", env=smtp_env)
    assert result.exit_code == 1  # the slow source failed ...
    assert "too slow" in result.output
    assert sorted(r[0] for r, _ in inbox.messages) == EMAILS  # ... and the digest still went out
