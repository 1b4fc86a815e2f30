"""One-line errors where tracebacks were, and hostile text kept out of the store, the terminal and
the digest (issue 11: defects 10, 11, 12 and the "also" list). The real CLI, a real store."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tracker.cli import cli
from tracker.models import Article
from tracker.store import Store

from .helpers import rss


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


HOSTILE_ITEMS = [
    {
        "title": "\x1b[31mRED\x1b[0m Commerce adds \x01firms to the Entity List",
        "link": "http://x.test/esc",
        "description": "BIS \x1b]0;pwned\x07added firms.",
    },
    {
        "title": "Invoice \u202egpj.exe Entity List",
        "link": "http://x.test/rtl",
        "description": "An override \u202d here.",
    },
    {"title": "Click me", "link": "javascript:alert(document.cookie)"},
    {"title": "Data me", "link": "data:text/html,<script>alert(1)</script>"},
]


@pytest.fixture
def fetched(tmp_path: Path, httpserver: HTTPServer) -> Path:
    feed = rss(HOSTILE_ITEMS).replace("&#27;", "\x1b")
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed.encode("utf-8"), content_type="application/rss+xml"
    )
    (tmp_path / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\nretries = 0\n\n"
        f'[[sources]]\nname = "wire"\nkind = "rss"\nurl = "{httpserver.url_for("/feed.xml")}"\n'
        '\n[[digest.subscribers]]\nemail = "ana@example.org"\n',
        encoding="utf-8",
    )
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    return tmp_path


# ---------------------------------------------------------------- 11 and 12: hostile text
def test_control_and_bidi_characters_are_stripped_before_storage(fetched: Path) -> None:
    with sqlite3.connect(fetched / "tracker.db") as conn:
        stored = conn.execute("SELECT title || text || summary FROM articles").fetchall()
    assert len(stored) == 2
    for (text,) in stored:
        assert not any(ord(c) < 32 and c not in "\n\t" for c in text), repr(text)
        assert "\u202e" not in text
        assert "\u202d" not in text
    search = invoke("search", "entity list", "--format", "json")
    assert "\x1b" not in search.output
    assert "\\u001b" not in search.output
    ids = [row["id"] for row in json.loads(search.output)]
    shown = invoke("show", ids[0])
    assert "\x1b" not in shown.output


def test_only_http_links_are_stored_or_linked(fetched: Path) -> None:
    with sqlite3.connect(fetched / "tracker.db") as conn:
        urls = {r[0] for r in conn.execute("SELECT url FROM articles")}
    assert urls == {"http://x.test/esc", "http://x.test/rtl"}
    # A row written before this guard existed: the digest must not link it either.
    store = Store.open(fetched / "tracker.db")
    legacy = Article(
        url="javascript:alert(1)",
        source="wire",
        title="Commerce adds firms to the Entity List, again",
        text="BIS added firms to the Entity List under a licence requirement.",
        published_at=datetime.now(UTC),
        lang="en",
        relevance=0.9,
    )
    store.save_batch("wire", [(legacy, [])], now=datetime.now(UTC))
    store.close()
    out = fetched / "digest.html"
    result = invoke("digest", "--since", "30d", "--output", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    assert "javascript:" not in html
    assert "data:text" not in html


# ---------------------------------------------------------------- 10: one-line errors
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["search", "nvidia", "--since", "99999999999d"], "before the year 1"),
        (["search", "smic\x00"], "control character"),
        (["search", "-nvidia"], "put -- before the query"),
        (["show", "%"], "no article with id '%'"),
        (["show", "_"], "no article with id '_'"),
        (["show", "a" * 100_000], "no article with id 'aaaa"),
    ],
    ids=["since-overflow", "nul", "dash-word", "percent", "underscore", "100kb-id"],
)
def test_bad_input_is_one_line(fetched: Path, args: list[str], says: str) -> None:
    result = invoke(*args)
    no_traceback(result)
    assert result.exit_code in (1, 2)
    assert says in result.stderr
    assert [line for line in result.stderr.splitlines() if "Error" in line] == [
        next(line for line in result.stderr.splitlines() if says in line)
    ]


def test_a_dash_word_after_double_dash_is_an_exclusion(fetched: Path) -> None:
    result = invoke("search", "--format", "json", "--", "entity", "-invoice")
    assert result.exit_code == 0, result.output
    assert [r["url"] for r in json.loads(result.output)] == ["http://x.test/esc"]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ("read_timeout = -1\n", "read_timeout must be above 0"),
        ("request_deadline = 0\n", "request_deadline must be above 0"),
    ],
)
def test_impossible_settings_are_refused_at_load(tmp_path: Path, settings: str, says: str) -> None:
    (tmp_path / "tracker.toml").write_text(f"[settings]\n{settings}", encoding="utf-8")
    result = invoke("fetch")
    assert result.exit_code == 2
    assert says in result.stderr


def test_a_broken_source_url_is_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(
        '[[sources]]\nname = "x"\nkind = "rss"\nurl = "http://[::1"\n', encoding="utf-8"
    )
    result = invoke("fetch")
    no_traceback(result)
    assert result.exit_code == 2
    assert "is not a valid URL" in result.stderr


def corrupt(db: Path) -> None:
    with db.open("r+b") as handle:
        handle.seek(4096 * 4)
        handle.write(b"\xde\xad\xbe\xef" * 4096 * 5)


@pytest.mark.parametrize(
    "args", [["search", "entity"], ["show", "0"], ["digest"], ["stories"], ["fetch"]]
)
def test_a_damaged_database_is_named_in_one_line(fetched: Path, args: list[str]) -> None:
    corrupt(fetched / "tracker.db")
    # fetch checks the whole file once a day: as if the last check were a day ago
    (fetched / "tracker.db.checked").unlink()
    result = invoke(*args)
    no_traceback(result)
    assert result.exit_code == 1
    assert "is damaged" in result.stderr
    assert ".recover" in result.stderr


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["user_version", "migration"])
def test_a_database_from_a_newer_tracker_is_refused_and_not_written(
    fetched: Path, how: str
) -> None:
    db = fetched / "tracker.db"
    with sqlite3.connect(db) as conn:
        if how == "user_version":
            conn.execute("PRAGMA user_version = 999")
        else:
            conn.execute(
                "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                "VALUES ('tracker', 'm999_from_the_future', '2030-01-01')"
            )
    conn.close()
    before = digest_of(db)
    for args in (["search", "entity"], ["fetch"]):
        result = invoke(*args)
        no_traceback(result)
        assert result.exit_code == 1
        assert "written by a newer tracker" in result.stderr
    assert digest_of(db) == before


def unprivileged() -> list[str]:
    """A command prefix under which directory modes bind: none for a normal user; for root (who
    writes anywhere) a new user namespace, where root's capabilities no longer apply to files."""
    if os.getuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--user", "true"], check=False).returncode:
        pytest.skip("running as root without user namespaces: a read-only directory binds nobody")
    return [unshare, "--user"]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX users and modes")
def test_a_store_in_a_read_only_directory_can_still_be_searched(fetched: Path) -> None:
    prefix = unprivileged()
    shared = Path(f"/tmp/tracker-ro-{os.getpid()}")
    shared.mkdir(mode=0o755)
    try:
        shutil.copy(fetched / "tracker.db", shared / "tracker.db")
        (shared / "tracker.db").chmod(0o644)
        shared.chmod(0o555)
        before = digest_of(shared / "tracker.db")
        env = {**os.environ, "TRACKER_HOME": str(shared), "HOME": str(shared)}
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "tracker", "search", "entity", "--format", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert len(json.loads(done.stdout)) == 2
        assert digest_of(shared / "tracker.db") == before
        assert sorted(p.name for p in shared.iterdir()) == ["tracker.db"]
    finally:
        shared.chmod(0o755)
        shutil.rmtree(shared)


def test_read_commands_on_a_missing_database_say_so(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tracker.db"
    result = invoke("--db", str(missing), "search", "nvidia")
    assert result.exit_code == 1
    assert f"no database at {missing}" in result.stderr
    assert not missing.parent.exists()


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="POSIX file-size limits")
def test_fetch_checks_the_file_once_a_day(fetched: Path) -> None:
    marker = fetched / "tracker.db.checked"
    assert marker.exists()  # the fixture's fetch checked it
    os.utime(marker, (0, 0))  # a day and more ago
    assert invoke("fetch").exit_code == 0
    assert marker.stat().st_mtime > 0


def test_a_full_disk_is_one_line_and_loses_nothing_stored(
    fetched: Path, httpserver: HTTPServer
) -> None:
    db = fetched / "tracker.db"
    before = sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone()[0]
    big = [
        {
            "title": f"Entity List addition {i} " + "padding " * 40,
            "link": f"http://x.test/big/{i}",
            "description": "BIS adds firms to the Entity List. " * 60,
        }
        for i in range(400)
    ]
    httpserver.expect_request("/big.xml").respond_with_data(
        rss(big), content_type="application/rss+xml"
    )
    with (fetched / "tracker.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            f'\n[[sources]]\nname = "big"\nkind = "rss"\nurl = "{httpserver.url_for("/big.xml")}"\n'
        )
    limit = db.stat().st_size + 200_000  # room for a batch or two, not for 400 long items

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not kills
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "TRACKER_HOME": str(fetched)}
    done = subprocess.run(
        [sys.executable, "-m", "tracker", "-q", "fetch", "--source", "big"],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=small_disk,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "full" in done.stderr or "disk I/O" in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert after >= before
