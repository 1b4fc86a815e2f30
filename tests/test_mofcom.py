"""The mofcom kind against a loopback copy of the site's shape (fixtures written for the tests,
tests/data/mofcom/README.md): notices keyed on their number, designations read into China's
lists, and the entities they name linked to the news in both languages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.helpers import rss
from tracker.cli import cli
from tracker.record.notices import classify, notice_number, read_notice

DATA = Path(__file__).parent / "data" / "mofcom"
PAGES = {
    "/zcfb/blgg/art/2025/art_01.html": "notice_2025_1.html",
    "/zcfb/dwmygl/art/2025/art_01b.html": "notice_2025_1.html",
    "/zcfb/blgg/art/2025/art_5a.html": "notice_2025_5.html",
    "/zwgk/zcfb/art/2025/art_u3.html": "notice_uel_2025_3.html",
    "/zcfb/blgg/art/2025/art_72.html": "notice_2025_72.html",
    "/zcfb/blgg/art/2025/art_61.html": "notice_2025_61.html",
    "/zcfb/blgg/art/2025/art_09.html": "notice_2025_9.html",
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("title", "key", "label"),
    [
        ("商务部公告2025年第61号 关于实施…的决定", "MOFCOM-2025-61", "商务部公告2025年第61号"),
        (
            "商务部 海关总署公告2023年第23号 关于对镓、锗相关物项实施出口管制的公告",
            "MOFCOM-2023-23",
            "商务部公告2023年第23号",
        ),
        (
            "不可靠实体清单工作机制公告〔2025〕3号",
            "UEL-2025-3",
            "不可靠实体清单工作机制公告〔2025〕3号",
        ),
        (
            "不可靠实体清单工作机制公告[2025] 第3号",
            "UEL-2025-3",
            "不可靠实体清单工作机制公告〔2025〕3号",
        ),
    ],
)
def test_a_notice_is_keyed_on_its_number_however_it_is_written(
    title: str, key: str, label: str
) -> None:
    number = notice_number(title)
    assert number is not None
    assert (number.key, number.label) == (key, label)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("关于将3家美国实体列入出口管制管控名单的公告", ("CN-ECL", "added")),
        ("关于将1家美国实体移出出口管制管控名单的公告", ("CN-ECL", "removed")),
        ("关于将2家美国实体列入不可靠实体清单的公告", ("CN-UEL", "added")),
        ("关于将某实体列入关注名单的公告", ("CN-WATCH", "added")),
        ("关于暂停实施不可靠实体清单有关措施的公告", ("CN-UEL", "suspended")),
        ("关于实施境外相关稀土物项出口管制的决定", (None, None)),
    ],
)
def test_a_designation_says_its_list_and_what_it_does(
    title: str, expected: tuple[str | None, str | None]
) -> None:
    assert classify(title) == expected


def test_a_suspension_of_another_notice_names_it_and_its_end_date() -> None:
    number = notice_number("商务部公告2025年第72号")
    assert number is not None
    text = (DATA / "notice_2025_72.html").read_text(encoding="utf-8")
    notice = read_notice(number, "关于暂停实施商务部公告2024年第46号第二款的公告", text)
    assert notice.action == "suspended"
    assert [t.key for t in notice.targets] == ["MOFCOM-2024-46"]
    assert str(notice.until) == "2026-11-27"


class Site:
    def __init__(self, tmp_path: Path, server: HTTPServer) -> None:
        self.index = (DATA / "index_2025.html").read_text(encoding="utf-8")
        server.expect_request("/zcfb/blgg/gg/2025/index.html").respond_with_handler(
            lambda r: Response(self.index, content_type="text/html; charset=utf-8")
        )
        self.annex_up = True
        server.expect_request("/zcfb/blgg/art/2025/art_09_annex.html").respond_with_handler(
            lambda r: Response(
                (DATA / "annex_2025_9.html").read_bytes() if self.annex_up else b"busy",
                status=200 if self.annex_up else 503,
                content_type="text/html; charset=utf-8",
            )
        )
        for path, name in PAGES.items():
            server.expect_request(path).respond_with_data(
                (DATA / name).read_bytes(), content_type="text/html; charset=utf-8"
            )
        now = datetime.now(UTC)
        news = [
            {
                "title": "示例航空系统公司被列入管控名单",
                "link": "http://news.test/1",
                "description": "商务部将示例航空系统公司列入出口管制管控名单。",
                "date": (now - timedelta(hours=2)).isoformat(),
            },
            {
                "title": "Beijing lists Example Aero Systems",
                "link": "http://news.test/2",
                "description": "China put Example Aero Systems, Inc. on its export control list.",
                "date": (now - timedelta(hours=3)).isoformat(),
            },
        ]
        server.expect_request("/feed.xml").respond_with_data(
            rss(news), content_type="application/rss+xml"
        )
        base = server.url_for("").rstrip("/")
        (tmp_path / "tracker.toml").write_text(
            "[settings]\nmin_interval = 0\nretries = 0\n\n"
            f'[[sources]]\nname = "mofcom"\nkind = "mofcom"\n'
            f'url = "{base}/zcfb/blgg/gg/{{year}}/index.html"\nyears = [2025]\n\n'
            f'[[sources]]\nname = "news"\nkind = "rss"\nurl = "{base}/feed.xml"\n',
            encoding="utf-8",
        )


@pytest.fixture
def site(tmp_path: Path, httpserver: HTTPServer) -> Site:
    return Site(tmp_path, httpserver)


def test_notices_are_stored_once_each_and_designations_become_list_events(site: Site) -> None:
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    found = json.loads(
        invoke("search", "source:mofcom", "-f", "json", "--since", "3000d", "-n", "50").stdout
    )
    numbers = sorted(h["title"].split(" ")[0] for h in found)
    assert numbers == [  # No. 1 is linked twice, under two URL layouts: stored once
        "不可靠实体清单工作机制公告〔2025〕3号",
        "商务部公告2025年第1号",
        "商务部公告2025年第5号",
        "商务部公告2025年第61号",
        "商务部公告2025年第72号",
        "商务部公告2025年第9号",
    ]
    events = json.loads(invoke("lists", "changes", "--since", "1d", "-f", "json").stdout)
    got = sorted((e["list_code"], e["event"], e["name"], e["citation"]) for e in events)
    assert got == [
        ("CN-ECL", "added", "Example Aero Systems, Inc.", "商务部公告2025年第1号"),
        ("CN-ECL", "added", "Example Missile Technologies LLC", "商务部公告2025年第1号"),
        ("CN-ECL", "added", "示例防务研究所", "商务部公告2025年第1号"),
        ("CN-ECL", "removed", "示例防务研究所", "商务部公告2025年第5号"),
        (
            "CN-UEL",
            "added",
            "Example Genomics Corporation",
            "不可靠实体清单工作机制公告〔2025〕3号",
        ),
        (
            "CN-UEL",
            "added",
            "Example Optical Instruments Inc.",
            "不可靠实体清单工作机制公告〔2025〕3号",
        ),
        ("CN-WATCH", "added", "Example Drone Systems Corp.", "商务部公告2025年第9号"),
        ("CN-WATCH", "added", "Example Satellite Communications, LLC", "商务部公告2025年第9号"),
        ("MOFCOM", "suspended", "商务部公告2024年第46号", "商务部公告2025年第72号"),
    ]
    suspension = next(e for e in events if e["list_code"] == "MOFCOM")
    assert suspension["changed"] == ["until 2026-11-27"]
    counts = {r["list"]: r["entries"] for r in json.loads(invoke("lists", "-f", "json").stdout)}
    assert counts == {"CN-ECL": 2, "CN-UEL": 2, "CN-WATCH": 2}

    # The same notice under a third URL layout the next day: still stored once, no new events.
    site.index = site.index.replace(
        "/zcfb/dwmygl/art/2025/art_01b.html", "/zcfb/blgg/gg/2025/art/x01.html"
    )
    assert invoke("fetch", "--force").exit_code == 0
    again = json.loads(
        invoke("search", "source:mofcom", "-f", "json", "--since", "3000d", "-n", "50").stdout
    )
    assert len(again) == 6
    assert len(json.loads(invoke("lists", "changes", "--since", "1d", "-f", "json").stdout)) == 9


def test_an_entity_china_listed_is_found_in_news_in_both_languages(site: Site) -> None:
    assert invoke("fetch").exit_code == 0
    [ent] = json.loads(invoke("entity", "示例航空系统公司", "-f", "json").stdout)["entities"]
    assert [(e["list_code"], e["citation"]) for e in ent["entries"]] == [
        ("CN-ECL", "商务部公告2025年第1号")
    ]
    titles = {a["title"] for a in ent["articles"]}
    assert {"示例航空系统公司被列入管控名单", "Beijing lists Example Aero Systems"} <= titles
    listed = json.loads(invoke("search", "listed:cn-ecl", "-f", "json", "--since", "30d").stdout)
    assert {"示例航空系统公司被列入管控名单", "Beijing lists Example Aero Systems"} <= {
        h["title"] for h in listed
    }


def test_a_designation_whose_annex_fails_is_read_whole_on_the_next_run(site: Site) -> None:
    site.annex_up = False
    result = CliRunner().invoke(cli, ["fetch"], env={"COLUMNS": "200"})
    assert "商务部公告2025年第9号: its annex could not be read" in result.output
    events = json.loads(invoke("lists", "changes", "--since", "1d", "-f", "json").stdout)
    assert not [e for e in events if e["list_code"] == "CN-WATCH"]
    site.annex_up = True
    assert invoke("fetch", "--force").exit_code == 0
    events = json.loads(invoke("lists", "changes", "--since", "1d", "-f", "json").stdout)
    assert len([e for e in events if e["list_code"] == "CN-WATCH"]) == 2
    read = {
        r["document_number"]: r for r in json.loads(invoke("lists", "rules", "-f", "json").stdout)
    }
    assert (read["MOFCOM-2025-9"]["status"], read["MOFCOM-2025-9"]["added"]) == ("parsed", 2)
