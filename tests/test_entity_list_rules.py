"""Entity List rules from the Federal Register: entries read from the rule's XML the day it is
published, then confirmed (not added twice) when the screening list catches up.

The rule XML fixtures are reconstructions in the Federal Register's shape (see each file's
comment): abridged, not verified copies of the published documents.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tracker.cli import cli
from tracker.errors import ParseError
from tracker.record.rules import parse_entity_list_rule, split_entity

from .test_screening_list import BASE, csv_of, row

DATA = Path(__file__).parent / "data" / "federal_register"
CHINA = "CHINA, PEOPLE'S REPUBLIC OF"


def parse(name: str, citation: str) -> list[tuple[str, str, str, tuple[str, ...], str]]:
    parsed = parse_entity_list_rule((DATA / name).read_bytes(), citation)
    assert parsed.problems == []
    return [(e.action, e.country, e.name, e.aliases, e.citation) for e in parsed.entries]


def test_a_rule_that_adds_revises_and_removes_reads_to_its_exact_entries() -> None:
    assert parse("el_rule_2020-28031.xml", "85 FR 83416") == [
        ("removed", "GERMANY", "Ghazanfar Ali Khan Trading", (), "85 FR 83416"),
        (
            "revised",
            CHINA,
            "Beijing Institute of Technology",
            ("Beijing Polytechnic University",),
            "76 FR 71869, 11/21/11. 85 FR 83416, 12/22/2020.",
        ),
        ("added", CHINA, "China Construction Technology Co., Ltd.", (), "85 FR 83416, 12/22/2020."),
        (
            "added",
            CHINA,
            "Semiconductor Manufacturing International Corporation",
            ("SMIC",),
            "85 FR 83416, 12/22/2020.",
        ),
        (
            "added",
            CHINA,
            "SMIC Semiconductor Manufacturing (Shanghai) Co., Ltd.",
            (),
            "85 FR 83416, 12/22/2020.",
        ),
        (
            "added",
            CHINA,
            "SZ DJI Technology Co., Ltd.",
            ("Da-Jiang Innovations", "DJI Innovations"),
            "85 FR 83416, 12/22/2020.",
        ),
    ]


def test_an_addition_naming_no_names_reads_every_row_under_each_country() -> None:
    got = parse("el_rule_2022-27151.xml", "87 FR 77505")
    assert [(a, c, n) for a, c, n, _, _ in got] == [
        ("added", CHINA, "Cambricon Technologies"),
        ("added", CHINA, "Yangtze Memory Technologies Co., Ltd."),
        ("added", CHINA, "Wuhan Xinxin Semiconductor Manufacturing Co., Ltd."),
        ("added", "JAPAN", "Yangtze Memory Technologies Japan"),
    ]
    assert got[0][3] == (
        "Beijing Zhongke Cambricon Technology Co., Ltd.",
        "Cambricon Technologies Corporation Limited",
        "Zhongke Cambricon",
    )
    assert {c for *_, c in got} == {"87 FR 77505, 12/19/2022."}


def test_a_removal_without_a_table_reads_from_the_amendment() -> None:
    assert parse("el_rule_2023-25330.xml", "88 FR 78679") == [
        ("removed", CHINA, "Institute of Forensic Science of China", (), "88 FR 78679")
    ]


def test_an_unexpected_table_yields_nothing_and_says_why() -> None:
    parsed = parse_entity_list_rule((DATA / "el_rule_unexpected_table.xml").read_bytes())
    assert parsed.entries == []
    assert "not an Entity List table (columns: destination, party, basis)" in parsed.problems[0]


def test_a_row_the_amendments_do_not_place_is_reported_not_guessed() -> None:
    # Both an addition and a revision without naming names: no row can be told apart.
    xml = (DATA / "el_rule_2020-28031.xml").read_bytes().decode()
    start = xml.index("entries for “China")
    xml = xml[:start] + "four entries;</AMDPAR>" + xml[xml.index("</AMDPAR>", start) + 9 :]
    xml = xml.replace("“Beijing Institute of Technology”", "an entry")
    parsed = parse_entity_list_rule(xml.encode(), "85 FR 83416")
    assert [(e.action, e.name) for e in parsed.entries] == [
        ("removed", "Ghazanfar Ali Khan Trading")
    ]
    assert len(parsed.problems) == 5
    assert "(Beijing Institute of Technology): the amendments do not say" in parsed.problems[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<RULE><REGTEXT><AMDPAR>cut off", "cut off or malformed"),
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>', "DTD"),
    ],
)
def test_broken_or_hostile_xml_is_refused(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_entity_list_rule(content)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (
            "Huawei Technologies Co., Ltd., Bantian, Longgang District, Shenzhen, China.",
            ("Huawei Technologies Co., Ltd.", (), "Bantian, Longgang District, Shenzhen, China."),
        ),
        (
            "Alpha Ltd., a.k.a., the following two aliases: —Alpha Co., Ltd.; and —Beta. "
            "1 Road, Wuhan, China.",
            ("Alpha Ltd.", ("Alpha Co., Ltd.", "Beta"), "1 Road, Wuhan, China."),
        ),
    ],
)
def test_an_entity_cell_splits_into_name_aliases_and_address(
    cell: str, expected: tuple[str, tuple[str, ...], str]
) -> None:
    assert split_entity(cell) == expected


# ---------------------------------------------------------------- through tracker fetch
def documents(base: str, rule: str, number: str, citation: str, title: str) -> str:
    return json.dumps(
        {
            "count": 1,
            "results": [
                {
                    "document_number": number,
                    "title": title,
                    "type": "Rule",
                    "action": "Final rule.",
                    "abstract": "BIS amends the Entity List.",
                    "publication_date": "2020-12-22",
                    "html_url": f"{base}/documents/{number}",
                    "full_text_xml_url": f"{base}/xml/{rule}",
                    "citation": citation,
                    "agencies": [{"slug": "industry-and-security-bureau"}],
                }
            ],
        }
    )


class Record:
    def __init__(self, tmp_path: Path, server: HTTPServer) -> None:
        base = server.url_for("").rstrip("/")
        self.rule = ("el_rule_2020-28031.xml", "2020-28031", "85 FR 83416")
        self.title = "Addition of Entities to the Entity List"
        self.lists = csv_of(BASE)
        server.expect_request("/api/v1/documents.json").respond_with_handler(
            lambda r: Response(
                documents(base, *self.rule, self.title), content_type="application/json"
            )
        )
        server.expect_request("/lists.csv").respond_with_handler(
            lambda r: Response(self.lists, content_type="text/csv")
        )
        for name in DATA.glob("el_rule_*.xml"):
            server.expect_request(f"/xml/{name.name}").respond_with_data(
                name.read_bytes(), content_type="application/xml"
            )
        (tmp_path / "tracker.toml").write_text(
            "[settings]\nmin_interval = 0\nretries = 0\n\n"
            f'[[sources]]\nname = "csl"\nkind = "screening-list"\nurl = "{base}/lists.csv"\n\n'
            f'[[sources]]\nname = "fr-bis"\nkind = "federal-register"\nurl = "{base}/api/v1"\n'
            'since = "2020-12-01"\nfetch_text = false\n',
            encoding="utf-8",
        )


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def changes() -> list[dict[str, object]]:
    return json.loads(invoke("lists", "changes", "--since", "30d", "-f", "json").stdout)


@pytest.fixture
def record(tmp_path: Path, httpserver: HTTPServer) -> Record:
    return Record(tmp_path, httpserver)


def test_a_rule_makes_list_events_the_day_it_is_published_and_the_list_confirms_them(
    record: Record,
) -> None:
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    events = {(e["event"], e["name"], e["document"]) for e in changes()}
    assert (
        "added",
        "Semiconductor Manufacturing International Corporation",
        "2020-28031",
    ) in events
    assert ("removed", "Ghazanfar Ali Khan Trading", "2020-28031") in events
    assert len([e for e in events if e[0] == "added"]) == 4
    [smic] = json.loads(invoke("entity", "中芯国际", "-f", "json").stdout)["entities"]
    [entry] = smic["entries"]
    assert (entry["list_code"], entry["citation"]) == ("EL", "85 FR 83416, 12/22/2020.")
    assert [(e["event"], e["document"]) for e in entry["events"]] == [("added", "2020-28031")]

    # Days later the screening list carries SMIC: confirmed, not added a second time.
    record.lists = csv_of(
        [
            *BASE,
            row(
                "el-smic", "Semiconductor Manufacturing International Corporation", alt_names="SMIC"
            ),
        ]
    )
    assert invoke("fetch", "--force").exit_code == 0
    smic_events = [e for e in changes() if e["entry_id"] == "el-smic"]
    assert sorted(e["event"] for e in smic_events) == ["added", "confirmed"]
    [smic] = json.loads(invoke("entity", "smic", "-f", "json").stdout)["entities"]
    assert [e["entry_id"] for e in smic["entries"]] == ["el-smic"]  # one entry, not two
    rules = json.loads(invoke("lists", "rules", "-f", "json").stdout)
    assert [
        (r["document_number"], r["added"], r["revised"], r["removed"], r["status"]) for r in rules
    ] == [("2020-28031", 4, 1, 1, "parsed")]
    assert invoke("fetch", "--force").exit_code == 0  # read once: no events the second time
    assert len(changes()) == len(smic_events) + 5


def test_a_rule_not_understood_keeps_its_document_and_invents_nothing(record: Record) -> None:
    record.rule = ("el_rule_unexpected_table.xml", "2025-99999", "90 FR 99999")
    record.title = "Additions to the Entity List"
    result = invoke("fetch")
    assert result.exit_code == 0, result.output
    assert changes() == []
    [rule] = json.loads(invoke("lists", "rules", "-f", "json").stdout)
    assert rule["status"] == "not-understood"
    assert "not an Entity List table" in rule["problem"]
    found = json.loads(invoke("search", "Entity List", "-f", "json", "--since", "3000d").stdout)
    assert [h["title"] for h in found] == ["Additions to the Entity List"]
