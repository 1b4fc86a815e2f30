"""Alerts from watch lists, mailed within the run to a real SMTP server on loopback, exactly once.

A screening list and a feed on loopback: the first run sets the marks; a list change adding a
watched entity and an article naming it become one message; nothing is sent twice; a refused
recipient gets their alerts on the next run and the others nothing more.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tests.helpers import rss
from tests.test_entities import DATA, Home, item

from .smtp import Inbox

pytest_plugins = ["tests.smtp"]

WATCH = (
    '\n[[digest.subscribers]]\nemail = "ana@example.org"\nwatch = ["entity:sugon"]\n'
    '\n[[digest.subscribers]]\nemail = "bo@example.org"\nwatch = ["entity:sugon", "entity:hikvision"]\n'
)
WITHOUT_SUGON = "\n".join(
    line
    for line in (DATA / "lists.csv").read_text(encoding="utf-8").splitlines()
    if "el-sugon" not in line
).encode()


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    from tracker.cli import cli

    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def watched(tmp_path: Path, httpserver: HTTPServer) -> Home:
    home = Home(tmp_path, httpserver)
    home.lists = WITHOUT_SUGON
    home.feed = rss([item(9, "Unrelated", "Nothing to see.")])
    config = tmp_path / "tracker.toml"
    config.write_text(config.read_text(encoding="utf-8") + WATCH, encoding="utf-8")
    return home


def test_a_watched_entity_listed_is_mailed_once_within_the_run(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    first = invoke("run", env=smtp_env)
    assert first.exit_code == 0, first.output
    assert inbox.to("ana@example.org") == []  # the first run is a baseline
    # The list adds Sugon, and a report names it.
    watched.lists = (DATA / "lists.csv").read_bytes()
    watched.feed = rss(
        [
            item(
                1,
                "Sugon hit by export controls",
                "Sugon was added to the Entity List under export controls.",
            )
        ]
    )
    second = (
        invoke("run", "--force", env=smtp_env)
        if False
        else invoke("fetch", "--force", env=smtp_env)
    )
    assert second.exit_code == 0, second.output
    sent = invoke("alerts", "--send", env=smtp_env)
    assert sent.exit_code == 0, sent.output
    [mail] = inbox.to("ana@example.org")
    assert mail["Subject"] == "Entity List: 1 watched entity added (84 FR 29371); 1 more alert"
    body = mail.get_body(("plain",)).get_content()
    assert "Dawning Information Industry Co., Ltd.: added (Entity List)" in body
    assert "Sugon hit by export controls" in body
    assert len(inbox.to("bo@example.org")) == 1
    again = invoke("alerts", "--send", env=smtp_env)
    assert again.exit_code == 0
    assert len(inbox.to("ana@example.org")) == 1  # exactly once
    listed = json.loads(invoke("alerts", "list", "--since", "1d", "-f", "json").stdout)
    assert {r["email"] for r in listed} == {"ana@example.org", "bo@example.org"}
    digest = invoke("digest", "--since", "7d").stdout  # ana's: alerted, so not new
    alerted = digest.split("ALERTED SINCE YOUR LAST DIGEST", 1)[1]
    assert "Sugon hit by export controls" in alerted
    assert "Sugon hit by export controls" not in digest.split("ALERTED SINCE", 1)[0]


def test_a_refused_recipient_gets_the_alerts_next_time_and_the_others_nothing_twice(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    assert invoke("fetch").exit_code == 0
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0  # baseline
    watched.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch", "--force").exit_code == 0
    inbox.refuse.add("ana@example.org")
    refused = invoke("alerts", "--send", env=smtp_env)
    assert refused.exit_code == 1
    assert "ana@example.org: failed: refused" in refused.output
    assert len(inbox.to("bo@example.org")) == 1
    inbox.refuse.clear()
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0
    assert len(inbox.to("ana@example.org")) == 1
    assert len(inbox.to("bo@example.org")) == 1  # not again


def test_a_dry_run_shows_what_would_go_and_sends_nothing(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    assert invoke("fetch").exit_code == 0
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0  # baseline
    watched.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch", "--force").exit_code == 0
    shown = invoke("alerts")
    assert (
        "ana@example.org: would send 1 alert(s): Entity List: 1 watched entity added"
        in shown.output
    )
    assert inbox.messages == []
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0
    assert len(inbox.to("ana@example.org")) == 1


def test_a_malformed_watch_entry_is_refused_at_load_with_the_entry_named(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(
        '[[digest.subscribers]]\nemail = "ana@example.org"\nwatch = ["entity:smic", "\\"unclosed"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(__import__("tracker.cli", fromlist=["cli"]).cli, ["alerts"])
    assert result.exit_code == 2
    assert "tracker.toml" in result.stderr
    assert "watch entry '\"unclosed'" in result.stderr


def test_a_webhook_answering_500_then_200_gets_each_alert_once(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox, tmp_path: Path
) -> None:
    from werkzeug import Request, Response

    hook = HTTPServer()
    hook.start()
    answers = [500, 200]
    bodies: list[dict[str, object]] = []

    def receive(request: Request) -> Response:
        bodies.append(json.loads(request.data))
        return Response("ok", status=answers.pop(0) if answers else 200)

    hook.expect_request("/hook", method="POST").respond_with_handler(receive)
    config = tmp_path / "tracker.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'email = "ana@example.org"\n',
            f'email = "ana@example.org"\nwebhook = "{hook.url_for("/hook")}"\n',
        ),
        encoding="utf-8",
    )
    try:
        assert invoke("fetch").exit_code == 0
        assert invoke("alerts", "--send", env=smtp_env).exit_code == 0  # baseline
        watched.lists = (DATA / "lists.csv").read_bytes()
        assert invoke("fetch", "--force").exit_code == 0
        sent = invoke("alerts", "--send", env=smtp_env)
        assert sent.exit_code == 0, sent.output
        assert len(bodies) == 2  # a 500, then the retry's 200
        assert bodies[1]["subject"] == "Entity List: 1 watched entity added (84 FR 29371)"
        assert "Dawning Information Industry" in str(bodies[1]["text"])  # Slack/Teams read "text"
        assert invoke("alerts", "--send", env=smtp_env).exit_code == 0
        assert len(bodies) == 2  # never again after a 2xx
        assert len(inbox.to("ana@example.org")) == 1
    finally:
        hook.stop()


def test_a_connection_dropped_mid_batch_loses_and_repeats_nothing(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    assert invoke("fetch").exit_code == 0
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0  # baseline
    watched.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch", "--force").exit_code == 0
    inbox.drop_on = {"bo@example.org"}  # the server hangs up at the second recipient, once
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0  # reconnected, sent
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0
    assert (len(inbox.to("ana@example.org")), len(inbox.to("bo@example.org"))) == (1, 1)


def test_a_busy_database_after_the_send_loses_nothing_and_sends_nothing_twice(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox, tmp_path: Path
) -> None:
    from tests.test_reliability_mail import WriteLock

    assert invoke("fetch").exit_code == 0
    assert invoke("alerts", "--send", env=smtp_env).exit_code == 0  # baseline
    watched.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch", "--force").exit_code == 0
    db = next(tmp_path.glob("**/tracker.db"))
    lock = WriteLock(db)
    inbox.on_message = lock.take  # busy from the first accepted message on
    env = {**smtp_env, "TRACKER_BUSY_TIMEOUT": "0.5"}
    first = invoke("alerts", "--send", env=env)
    assert first.exit_code == 0, first.output
    assert len(inbox.messages) == 2  # both recipients mailed
    journal = db.with_name("tracker.db.alerts-journal")
    assert len(list(journal.glob("*.json"))) == 2  # neither could be recorded yet
    again = invoke("alerts", "--send", env=env)
    assert again.exit_code == 1
    assert "not yet recorded" in again.stderr
    lock.release()
    inbox.on_message = None
    third = invoke("alerts", "--send", env=env)
    assert third.exit_code == 0, third.output
    assert len(inbox.messages) == 2  # nothing twice
    assert not list(journal.glob("*.json"))
    listed = json.loads(invoke("alerts", "list", "--since", "1d", "-f", "json").stdout)
    assert {r["email"] for r in listed} == {"ana@example.org", "bo@example.org"}


def test_a_watch_entry_naming_an_unknown_entity_fails_that_subscriber_alone(
    watched: Home, smtp_env: dict[str, str], inbox: Inbox, tmp_path: Path
) -> None:
    config = tmp_path / "tracker.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'watch = ["entity:sugon"]', 'watch = ["entity:no-such-firm"]'
        ),
        encoding="utf-8",
    )
    assert invoke("fetch").exit_code == 0
    assert (
        invoke("alerts", "--send", env=smtp_env).exit_code == 1
    )  # first run: ana fails, bo's baseline
    result = invoke("alerts", env=smtp_env)
    assert (
        f"ana@example.org: failed: {config}: watch entry 'entity:no-such-firm': entity:no-such-firm: no entity"
        in result.output
    )
    assert "bo@example.org: nothing new" in result.output
