"""The digest: what it holds, how it renders, and sending it exactly once through a real SMTP server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tracker.cli import cli
from tracker.config.digest import DigestSettings, Subscriber
from tracker.config.stories import StoryRules
from tracker.digest.build import Window, build_digest, extract
from tracker.digest.mail import SmtpSettings, connect
from tracker.digest.render import render_html, render_text, subject
from tracker.digest.send import last_success, prepare, send_all, sent_items
from tracker.errors import ConfigError, SendError
from tracker.models import Article
from tracker.store import Store
from tracker.stories.evaluate import load_labelled
from tracker.stories.place import place_pending
from tracker.tagging.tagger import Tagger, relevance
from tracker.urls import article_id

from .helpers import rss
from .smtp import Inbox

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
LABELLED = Path(__file__).parent / "data" / "stories"
GOLDEN = Path(__file__).parent / "data" / "digest"
HOSTILE = '<script>alert(1)</script> BIS adds "><img src=x onerror=alert(1)> to the Entity List'
# The labelled set spans two months of publication dates: here every article counts as news
# (tests/test_digest_order.py covers what is found late and left out).
SETTINGS = DigestSettings(late_hours=24 * 90)
ANA = Subscriber(email="ana@example.org", name="Ana Müller-Łukasz", timezone="Europe/Berlin")


def _tagged(a: Article, tagger: Tagger) -> list:
    hits = tagger.tag(a.title, a.text, a.lang)
    a.relevance = relevance(hits, tagger.weights())  # as the pipeline does
    return hits


def _fill(path: Path, tagger: Tagger, seen: datetime) -> None:
    store = Store.open(path)
    for item in load_labelled(LABELLED):
        a = item.article
        store.save_batch(a.source, [(a, _tagged(a, tagger))], now=seen)
    hostile = Article(
        url="https://hostile.example/entity-list",
        source="hostile",
        title=HOSTILE,
        text="The Bureau of Industry and Security added entities to the Entity List under the "
        "Export Administration Regulations; licence applications face a presumption of denial.",
        published_at=seen,
        lang="en",
        extracted=True,
    )
    store.save_batch("hostile", [(hostile, _tagged(hostile, tagger))], now=seen)
    place_pending(store, StoryRules(), now=seen)
    store.close()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory, tagger: Tagger) -> Path:
    path = tmp_path_factory.mktemp("digest") / "template.db"
    _fill(path, tagger, NOW - timedelta(hours=2))
    return path


@pytest.fixture
def store(template_db: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "digest.db"
    shutil.copy(template_db, path)
    s = Store.open(path)
    yield s
    s.close()


def digest_for(store: Store, sub: Subscriber = ANA, tagger: Tagger | None = None) -> object:
    window = Window(store, NOW - timedelta(hours=24), NOW)
    return build_digest(
        store, sub, window, settings=SETTINGS, expand=tagger.lookup if tagger else None
    )


# ---------------------------------------------------------------- content
def test_official_actions_come_first_with_their_document_fields(store: Store) -> None:
    digest = digest_for(store)
    numbers = [i.document_number for i in digest.official]  # type: ignore[attr-defined]
    assert "2026-22840" in numbers
    assert all(i.official for i in digest.official)  # type: ignore[attr-defined]
    text = render_text(digest, SETTINGS)  # type: ignore[arg-type]
    assert text.index("OFFICIAL ACTIONS") < text.index("US CONTROLS")
    assert "federalregister.gov/documents/2026/11/12/2026-22840" in text


def test_a_story_is_one_item_with_the_other_outlets_listed(store: Store) -> None:
    digest = digest_for(store)
    stories = digest.stories  # type: ignore[attr-defined]
    h200 = [i for i in stories if "H200" in i.title]
    assert len(h200) == 1  # wire, copy and Chinese rewrite: one item
    assert {o for o, _ in h200[0].also} >= {"pacific-ledger", "keji-ribao"}
    assert h200[0].extract.count(".") <= 3  # two sentences, not the article
    titles = [i.title for i in stories]
    assert len(titles) == len(set(titles))


def test_themes_group_the_stories(store: Store) -> None:
    digest = digest_for(store)
    themes = dict(digest.themes)  # type: ignore[attr-defined]
    assert any("gallium" in i.title.lower() for i in themes["China countermeasures"])
    assert any("ASML" in i.title or "Netherlands" in i.title for i in themes["Allied controls"])


def test_chinese_stories_keep_their_headline_and_lang_picks_the_member(store: Store) -> None:
    zh = Subscriber(email="li@example.org", lang="zh")
    titles = [i.title for i in digest_for(store, zh).stories]  # type: ignore[attr-defined]
    assert "美国允许英伟达向中国出售H200芯片 政府抽成25%" in titles
    en_titles = [i.title for i in digest_for(store).stories]  # type: ignore[attr-defined]
    assert "US opens door to Nvidia H200 sales in China with 25% fee" in en_titles


def test_the_filter_narrows_to_what_the_subscriber_follows(store: Store, tagger: Tagger) -> None:
    sub = Subscriber(
        email="nv@example.org", filter="company:nvidia OR policy:unreliable-entity-list"
    )
    digest = digest_for(store, sub, tagger)
    items = [*digest.stories, *digest.other]  # type: ignore[attr-defined]
    assert items
    for item in items:
        assert {"company:nvidia", "policy:unreliable-entity-list"} & set(item.tags), item.title
    assert not any("gallium" in i.title.lower() for i in items)


def test_items_already_sent_are_left_out(store: Store) -> None:
    window = Window(store, NOW - timedelta(hours=24), NOW)
    first = build_digest(store, ANA, window, settings=SETTINGS)
    assert first.overflow  # more matched than max_other: counted, not listed
    assert set(first.overflow) <= first.item_ids
    again = build_digest(store, ANA, window, settings=SETTINGS, sent=first.item_ids)
    assert again.empty
    assert f"and {len(first.overflow)} more articles" in render_text(first, SETTINGS)


def test_movement_lists_tags_new_against_the_previous_week(store: Store) -> None:
    moves = digest_for(store).movement  # type: ignore[attr-defined]
    assert moves
    assert all(m.new for m in moves)  # nothing was seen in the week before
    html = render_html(digest_for(store), SETTINGS)  # type: ignore[arg-type]
    assert "Movement against the previous 7 days" in html
    assert "<img" not in html.replace("&lt;img", "")  # the chart is table cells


def test_hostile_titles_are_escaped_in_html_and_plain_in_text(store: Store) -> None:
    digest = digest_for(store)
    html = render_html(digest, SETTINGS)  # type: ignore[arg-type]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"><img' not in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    text = render_text(digest, SETTINGS)  # type: ignore[arg-type]
    assert HOSTILE in text  # the text part shows the title as it is


def test_extract_is_two_sentences_and_bounded() -> None:
    text = "First sentence here. Second one, with 15% more. Third must not appear. " * 3
    assert extract(text) == "First sentence here. Second one, with 15% more."
    assert extract("第一句。第二句。第三句。") == "第一句。第二句。"
    assert len(extract("word " * 500)) <= 320


def test_golden_rendering(store: Store) -> None:
    """The layout does not drift. Regenerate on purpose: UPDATE_GOLDEN=1 pytest tests/test_digest.py"""
    digest = digest_for(store)
    rendered = {
        "digest.txt": render_text(digest, SETTINGS, "mailto:tracker@example.org"),  # type: ignore[arg-type]
        "digest.html": render_html(digest, SETTINGS, "mailto:tracker@example.org"),  # type: ignore[arg-type]
    }
    for name, text in rendered.items():
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the docstring"


# ---------------------------------------------------------------- sending
def settings_from(env: dict[str, str]) -> SmtpSettings:
    return SmtpSettings.from_env(env)


def send(store: Store, env: dict[str, str], subs: list[Subscriber], now: datetime = NOW) -> list:
    smtp = settings_from(env)
    prepared = prepare(store, SETTINGS, subs, now=now, sender=smtp.sender)
    return send_all(store, prepared, smtp, now=now)


def test_the_message_is_multipart_with_utf8_headers(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    [outcome] = send(store, smtp_env, [ANA])
    assert outcome.status == "sent"
    [msg] = inbox.to("ana@example.org")
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert msg["To"].addresses[0].display_name == "Ana Müller-Łukasz"
    assert msg["Subject"] == outcome.subject
    assert "H200" in msg.get_body(("plain",)).get_content()
    assert "<table" in msg.get_body(("html",)).get_content()
    assert msg["Message-ID"].endswith("@example.org>")
    assert msg["Date"]
    assert msg["List-Unsubscribe"].strip().startswith("<mailto:tracker@example.org?subject=")


def test_non_ascii_subject_survives_the_wire(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    smtp = settings_from(smtp_env)
    chinese = DigestSettings(subject="出口管制日报", late_hours=24 * 90)
    prepared = prepare(store, chinese, [ANA], now=NOW, sender=smtp.sender)
    send_all(store, prepared, smtp, now=NOW)
    [msg] = inbox.to("ana@example.org")
    assert msg["Subject"].startswith("出口管制日报, 28 Nov 2026")


def test_sending_twice_sends_nothing_the_second_time(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    bob = Subscriber(email="bob@example.org")
    assert [o.status for o in send(store, smtp_env, [ANA, bob])] == ["sent", "sent"]
    later = NOW + timedelta(minutes=5)
    assert [o.status for o in send(store, smtp_env, [ANA, bob], later)] == ["skipped", "skipped"]
    assert len(inbox.messages) == 2
    # Whatever the window says: a wider --since still finds nothing new to send.
    smtp = settings_from(smtp_env)
    wide = prepare(
        store, SETTINGS, [ANA], now=later, sender=smtp.sender, since=NOW - timedelta(days=30)
    )
    assert [o.status for o in send_all(store, wide, smtp, now=later)] == ["skipped"]
    assert len(inbox.messages) == 2


def test_a_refused_recipient_gets_their_items_next_time_and_nobody_else_twice(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    bad = Subscriber(email="gone@example.org")
    bob = Subscriber(email="bob@example.org")
    inbox.refuse.add("gone@example.org")
    outcomes = send(store, smtp_env, [ANA, bad, bob])
    assert [o.status for o in outcomes] == ["sent", "failed", "sent"]
    assert "550" in (outcomes[1].error or "")
    assert sent_items(store, "gone@example.org") == set()
    assert last_success(store, "gone@example.org") is None
    inbox.refuse.clear()
    later = NOW + timedelta(hours=1)
    again = send(store, smtp_env, [ANA, bad, bob], later)
    assert [o.status for o in again] == ["skipped", "sent", "skipped"]
    assert len(inbox.to("gone@example.org")) == 1
    assert "H200" in inbox.to("gone@example.org")[0].get_body(("plain",)).get_content()
    assert len(inbox.to("ana@example.org")) == len(inbox.to("bob@example.org")) == 1


def test_a_dropped_connection_mid_batch_reconnects_and_sends_each_once(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    subs = [Subscriber(email=f"r{i}@example.org") for i in range(4)]
    inbox.drop_on.add("r2@example.org")  # the server hangs up once, at the third recipient
    outcomes = send(store, smtp_env, subs)
    assert [o.status for o in outcomes] == ["sent"] * 4
    assert [len(inbox.to(s.email)) for s in subs] == [1, 1, 1, 1]


def test_a_server_that_keeps_dropping_fails_the_rest_and_the_next_run_sends_only_them(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    subs = [Subscriber(email=f"r{i}@example.org") for i in range(4)]
    inbox.drop_on.add("r1@example.org")
    inbox.drop_times = 2  # the retry is dropped too
    outcomes = send(store, smtp_env, subs)
    assert [o.status for o in outcomes] == ["sent", "failed", "failed", "failed"]
    inbox.drop_on.clear()
    again = send(store, smtp_env, subs, NOW + timedelta(hours=1))
    assert [o.status for o in again] == ["skipped", "sent", "sent", "sent"]
    assert [len(inbox.to(s.email)) for s in subs] == [1, 1, 1, 1]


def test_starttls_refused_is_a_clear_error(smtp_env: dict[str, str]) -> None:
    settings = settings_from({**smtp_env, "TRACKER_SMTP_SECURITY": "starttls"})
    with pytest.raises(SendError, match="does not offer STARTTLS; set TRACKER_SMTP_SECURITY=ssl"):
        connect(settings)


def test_login_with_the_right_password_works(
    store: Store, smtp_auth_env: dict[str, str], inbox: Inbox
) -> None:
    env = {**smtp_auth_env, "TRACKER_SMTP_PASSWORD": inbox.password}
    assert [o.status for o in send(store, env, [ANA])] == ["sent"]


def test_auth_failure_names_the_user_never_the_password(
    store: Store, smtp_auth_env: dict[str, str], inbox: Inbox
) -> None:
    wrong = "hunter2-wrong-password"
    env = {**smtp_auth_env, "TRACKER_SMTP_PASSWORD": wrong}
    outcomes = send(store, env, [ANA, Subscriber(email="bob@example.org")])
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "refused the login for 'tracker'" in (outcomes[0].error or "")
    assert wrong not in repr(outcomes)
    assert wrong not in repr(settings_from(env))
    assert inbox.messages == []


def test_an_empty_window_sends_only_to_who_asked(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    quiet = Subscriber(email="quiet@example.org")
    eager = Subscriber(email="eager@example.org", send_empty=True)
    far = NOW + timedelta(days=30)  # nothing was first seen in the day before this
    smtp = settings_from(smtp_env)
    prepared = prepare(
        store,
        SETTINGS,
        [quiet, eager],
        now=far,
        sender=smtp.sender,
        since=far - timedelta(hours=24),
    )
    outcomes = send_all(store, prepared, smtp, now=far)
    assert [o.status for o in outcomes] == ["skipped", "sent"]
    [msg] = inbox.to("eager@example.org")
    assert "nothing new" in msg["Subject"]
    assert "Nothing new since your last digest." in msg.get_body(("plain",)).get_content()


def test_smtp_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="TRACKER_SMTP_HOST"):
        SmtpSettings.from_env({})
    with pytest.raises(ConfigError, match="TRACKER_SMTP_SECURITY"):
        SmtpSettings.from_env(
            {"TRACKER_SMTP_HOST": "h", "TRACKER_MAIL_FROM": "a@b.c", "TRACKER_SMTP_SECURITY": "tls"}
        )
    assert (
        SmtpSettings.from_env({"TRACKER_SMTP_HOST": "h", "TRACKER_MAIL_FROM": "a@b.c"}).port == 587
    )


# ---------------------------------------------------------------- the command line
def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, tagger: Tagger) -> Path:
    """TRACKER_HOME with a database fetched just now, and two subscribers."""
    _fill(tmp_path / "tracker.db", tagger, datetime.now(UTC) - timedelta(hours=1))
    (tmp_path / "tracker.toml").write_text(
        '[digest]\nsubject = "Daily"\nlate_hours = 2160\n\n'
        '[[digest.subscribers]]\nemail = "ana@example.org"\nname = "Ana"\n'
        'timezone = "Asia/Shanghai"\n\n'
        '[[digest.subscribers]]\nemail = "nv@example.org"\nfilter = "company:nvidia"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_cli_preview_prints_the_first_subscribers_text(home: Path) -> None:
    result = invoke("digest")
    assert result.exit_code == 0
    assert result.output.startswith("Daily\n")
    assert "(Asia/Shanghai)" in result.output
    assert "OFFICIAL ACTIONS" in result.output


@pytest.mark.parametrize("suffix", [".eml", ".html", ".txt"])
def test_cli_output_writes_the_file(home: Path, suffix: str) -> None:
    out = home / f"digest{suffix}"
    assert invoke("digest", "--to", "nv@example.org", "--output", str(out)).exit_code == 0
    body = out.read_bytes()
    assert b"H200" in body
    if suffix == ".eml":
        assert b"multipart/alternative" in body


def test_cli_dry_run_lists_each_recipient(home: Path) -> None:
    lines = invoke("digest", "--dry-run").output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["ana@example.org", "nv@example.org"]


def test_cli_send_then_send_again(home: Path, smtp_env: dict[str, str], inbox: Inbox) -> None:
    first = invoke("digest", "--send", env=smtp_env)
    assert first.exit_code == 0, first.output
    assert first.output.count("sent\t") == 2
    second = invoke("digest", "--send", env=smtp_env)
    assert second.output.count("skipped\t") == 2
    assert len(inbox.messages) == 2


def test_cli_send_without_smtp_settings_is_a_config_error(home: Path) -> None:
    result = CliRunner().invoke(cli, ["digest", "--send"])
    assert result.exit_code == 2
    assert "TRACKER_SMTP_HOST" in result.output


def test_cli_auth_failure_exits_1_without_the_password(
    home: Path, smtp_auth_env: dict[str, str]
) -> None:
    env = {**smtp_auth_env, "TRACKER_SMTP_PASSWORD": "hunter2-wrong"}
    result = CliRunner().invoke(cli, ["digest", "--send"], env=env)
    assert result.exit_code == 1
    assert "refused the login" in result.output
    assert "hunter2-wrong" not in result.output


def test_cli_bad_subscriber_config_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(
        '[[digest.subscribers]]\nemail = "a@example.org"\ntimezone = "Mars/Olympus"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["digest"])
    assert result.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in result.output


def test_subject_counts_and_leads(store: Store) -> None:
    digest = digest_for(store)
    text = subject(digest, SETTINGS)  # type: ignore[arg-type]
    assert text.startswith("Export controls digest, 28 Nov 2026: ")
    assert "official action" in text


def test_the_sent_message_ids_are_recorded(
    store: Store, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    send(store, smtp_env, [ANA])
    [msg] = inbox.to("ana@example.org")
    row = store.db.conn.execute("SELECT message_id, items FROM digest_sends").fetchone()
    assert row[0] == msg["Message-ID"]
    assert row[1] == len(sent_items(store, "ana@example.org")) > 0
    assert article_id(
        "https://www.federalregister.gov/documents/2026/11/12/2026-22840/"
        "revision-to-license-review-policy-for-advanced-computing-items"
    ) in sent_items(store, "ana@example.org")


def test_cli_run_fetches_then_mails(
    tmp_path: Path, httpserver: HTTPServer, smtp_env: dict[str, str], inbox: Inbox
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(
            [
                {
                    "title": "Commerce adds 12 firms to the Entity List",
                    "link": "http://wire.test/entity-list-12",
                    "description": "The Bureau of Industry and Security added 12 companies to "
                    "the Entity List; licence applications face a presumption of denial.",
                    "date": datetime.now(UTC).isoformat(),
                }
            ]
        ),
        content_type="application/rss+xml",
    )
    url = httpserver.url_for("/feed.xml")
    (tmp_path / "tracker.toml").write_text(
        "[settings]\nmin_interval = 0\nretries = 0\n\n"
        f'[[sources]]\nname = "wire"\nkind = "rss"\nurl = "{url}"\n\n'
        '[[digest.subscribers]]\nemail = "ana@example.org"\n',
        encoding="utf-8",
    )
    result = invoke("run", env=smtp_env)
    assert result.exit_code == 0, result.output
    [msg] = inbox.to("ana@example.org")
    assert "Commerce adds 12 firms to the Entity List" in msg.get_body(("plain",)).get_content()
    again = invoke("run", env=smtp_env)  # nothing new: no second mail
    assert again.exit_code == 0
    assert len(inbox.messages) == 1


def test_cli_run_checks_mail_settings_before_fetching(home: Path) -> None:
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "TRACKER_SMTP_HOST" in result.output
    assert "Fetch summary" not in result.output


def test_a_long_failing_recipient_gets_at_most_max_window_days(store: Store) -> None:
    with store.db.atomic():  # their last success was long ago
        store.db.conn.execute(
            "INSERT INTO digest_sends (email, window_end, status) VALUES (?, ?, 'sent')",
            ["ana@example.org", (NOW - timedelta(days=200)).isoformat()],
        )
    [item] = prepare(store, SETTINGS, [ANA], now=NOW, sender="t@example.org")
    assert item.digest.start == (NOW - timedelta(days=14)).astimezone(ANA.zone)
