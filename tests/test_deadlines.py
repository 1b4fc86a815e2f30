"""`tracker deadlines`: from the Federal Register's fields and DATES text and MOFCOM notices,
upcoming first, as a table, JSON, CSV and an RFC 5545 calendar a real parser reads."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tracker.cli import cli

TODAY = datetime.now(UTC).date()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def words(n: int) -> str:
    d = TODAY + timedelta(days=n)
    return f"{d:%B} {d.day}, {d.year}"


def document(number: str, title: str, **fields: object) -> dict[str, object]:
    return {
        "document_number": number,
        "title": title,
        "type": "Rule",
        "action": "Final rule.",
        "abstract": "BIS amends the EAR.",
        "publication_date": day(-3),
        "html_url": f"http://fr.test/documents/{number}",
        "citation": f"91 FR {number[-4:]}",
        "agencies": [{"slug": "industry-and-security-bureau"}],
        **fields,
    }


DOCS = [
    document("2026-10001", "Revisions to License Exception ACA", effective_on=day(10)),
    document(
        "2026-10002",
        "Export Controls on Advanced Computing Items; Request for Comments",
        comments_close_on=day(40),
        dates=f"This rule is effective {words(5)}. Comments must be received by {words(40)}. "
        f"The compliance date is {words(60)}. A public meeting is planned for {words(20)}.",
    ),
    document(
        "2026-10003",
        "Entity List Additions; Delay of Effective Date",
        action="Final rule; delay of effective date.",
        dates=f"The effective date of the rule published on {words(-30)} is delayed until {words(120)}.",
    ),
    document("2026-10004", "An Old Rule", effective_on=day(-200)),
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def fetched(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/v1/documents.json").respond_with_handler(
        lambda r: Response(
            json.dumps({"count": len(DOCS), "results": DOCS}), content_type="application/json"
        )
    )
    (tmp_path / "tracker.toml").write_text(
        '[settings]\nmin_interval = 0\nretries = 0\n\n[[sources]]\nname = "fr-bis"\n'
        f'kind = "federal-register"\nurl = "{httpserver.url_for("/api/v1")}"\n'
        f'since = "{day(-400)}"\nfetch_text = false\n',
        encoding="utf-8",
    )
    result = invoke("fetch")
    assert result.exit_code == 0, result.output


def rows(*args: str) -> list[dict[str, object]]:
    result = invoke("deadlines", *args, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_deadlines_come_upcoming_first_from_fields_and_dates_text(fetched: None) -> None:
    got = [(r["date"], r["kind"], r["document"]) for r in rows("--until", "180d")]
    assert got == [
        (day(5), "effective", "2026-10002"),
        (day(10), "effective", "2026-10001"),
        (day(40), "comments-close", "2026-10002"),  # from the field and the text: once
        (day(60), "compliance", "2026-10002"),
        (day(120), "delayed-effective", "2026-10003"),
    ]
    assert [r["date"] for r in rows("--until", "30d")] == [day(5), day(10)]
    old = rows("--since", day(-365), "--until", day(-100))
    assert [(r["document"], r["kind"]) for r in old] == [("2026-10004", "effective")]


def test_a_date_the_reader_cannot_place_is_said_and_the_rest_kept(fetched: None) -> None:
    result = CliRunner().invoke(cli, ["-v", "deadlines", "--until", "180d"])
    assert result.exit_code == 0
    assert "1 date sentence(s) not understood" in result.stderr
    assert "A public meeting is planned" in result.stderr  # -v names it
    assert f"{day(20)}" not in result.stdout


def test_the_calendar_is_valid_rfc_5545_and_stable_across_exports(
    fetched: None, tmp_path: Path
) -> None:
    out = tmp_path / "deadlines.ics"
    result = invoke("deadlines", "--until", "180d", "-f", "ics", "-o", str(out))
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert b"\r\n" in raw
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))  # folded in octets
    cal = icalendar.Calendar.from_ical(raw)
    events = list(cal.walk("VEVENT"))
    assert len(events) == 5
    first = events[0]
    assert first.decoded("DTSTART") == date.fromisoformat(day(5))  # an all-day event
    assert first.decoded("DTEND") == date.fromisoformat(day(6))
    assert (
        str(first["SUMMARY"])
        == "Effective: Export Controls on Advanced Computing Items; Request for Comments"
    )
    assert "91 FR 0002" in str(first["DESCRIPTION"])
    assert str(first["URL"]) == "http://fr.test/documents/2026-10002"
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == 5
    again = icalendar.Calendar.from_ical(
        invoke("deadlines", "--until", "180d", "-f", "ics").stdout_bytes
    )
    assert [str(e["UID"]) for e in again.walk("VEVENT")] == uids  # a re-import updates


def test_deadlines_pipe_as_csv_and_refuse_bad_windows(fetched: None) -> None:
    table = list(csv.DictReader(io.StringIO(invoke("deadlines", "-f", "csv").stdout)))
    assert [(r["date"], r["document"]) for r in table] == [  # today to 90 days ahead by default
        (day(5), "2026-10002"),
        (day(10), "2026-10001"),
        (day(40), "2026-10002"),
        (day(60), "2026-10002"),
    ]
    bad = CliRunner().invoke(cli, ["deadlines", "--until", "soon"])
    assert bad.exit_code == 2
    backwards = CliRunner().invoke(cli, ["deadlines", "--since", day(10), "--until", day(1)])
    assert backwards.exit_code == 2
    assert "is before --since" in backwards.stderr


def test_a_mofcom_suspension_is_a_deadline_in_its_language(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    from tests.test_mofcom import Site

    Site(tmp_path, httpserver)
    assert invoke("fetch").exit_code == 0
    got = rows("--since", "2025-01-01", "--until", "2026-12-31")
    suspension = next(r for r in got if r["kind"] == "suspended-until")
    assert (suspension["date"], suspension["document"]) == ("2026-11-27", "MOFCOM-2025-72")
    assert suspension["what"] == "暂停至"
    ics = invoke("deadlines", "--since", "2025-01-01", "--until", "2026-12-31", "-f", "ics")
    assert all(len(line) <= 75 for line in ics.stdout_bytes.split(b"\r\n"))  # no split character
    [event] = icalendar.Calendar.from_ical(ics.stdout_bytes).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("暂停至: 商务部公告2025年第72号 关于暂停实施")


def test_the_digest_lists_what_is_coming_up_in_the_next_two_weeks(fetched: None) -> None:
    result = CliRunner().invoke(cli, ["digest", "--since", "30d"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "COMING UP (next 14 days)" in text
    section = text.split("COMING UP (next 14 days)", 1)[1].split("\n\n\n", 1)[0]
    assert f"{day(5)}  Effective: Export Controls on Advanced Computing Items" in section
    assert f"{day(10)}  Effective: Revisions to License Exception ACA" in section
    assert day(40) not in section  # past the fortnight


def test_the_html_digest_has_it_too(fetched: None, tmp_path: Path) -> None:
    out = tmp_path / "digest.html"
    assert invoke("digest", "--since", "30d", "-o", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "Coming up (next 14 days)" in html
    assert "Revisions to License Exception ACA" in html


def test_the_digest_says_what_a_correction_moved(tmp_path: Path, httpserver: HTTPServer) -> None:
    correction = document(
        "2026-10005",
        "Revisions to License Exception ACA; Correction; Delay of Effective Date",
        action="Final rule; correction.",
        correction_of="https://www.federalregister.gov/documents/2026/11/20/2026-10001/revisions",
        dates=f"The effective date of the rule published on {words(-15)} is delayed until {words(30)}.",
    )
    body = json.dumps({"count": 2, "results": [DOCS[0], correction]})
    httpserver.expect_request("/api/v1/documents.json").respond_with_data(
        body, content_type="application/json"
    )
    (tmp_path / "tracker.toml").write_text(
        '[settings]\nmin_interval = 0\nretries = 0\n\n[[sources]]\nname = "fr-bis"\n'
        f'kind = "federal-register"\nurl = "{httpserver.url_for("/api/v1")}"\n'
        f'since = "{day(-400)}"\nfetch_text = false\n',
        encoding="utf-8",
    )
    assert invoke("fetch").exit_code == 0
    text = invoke("digest", "--since", "7d").stdout
    changed = text.split("CHANGED SINCE YOUR LAST DIGEST", 1)[1]
    assert (
        f"2026-10001 (Revisions to License Exception ACA): Effective (delayed) now {day(30)}"
        in changed
    )
    assert "set by 2026-10005" in changed
    assert (
        "CHANGED SINCE" not in invoke("digest", "--since", day(-1)).stdout
    )  # only new corrections
