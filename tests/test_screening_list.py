"""The screening-list kind: the US Consolidated Screening List kept as list entries and events.

Fixture rows are written for the tests (fictitious entities) in the real file's shape: columns
read by name, lists named in long form, entries keyed on _id.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tracker.cli import cli
from tracker.errors import ParseError
from tracker.record.screening import parse_screening_list

HEADER = [
    "_id", "source", "entity_number", "type", "programs", "name", "title", "addresses",
    "federal_register_notice", "start_date", "end_date", "standard_order", "license_requirement",
    "license_policy", "call_sign", "vessel_type", "gross_tonnage", "gross_registered_tonnage",
    "vessel_flag", "vessel_owner", "remarks", "source_list_url", "alt_names", "citizenships",
    "dates_of_birth", "nationalities", "places_of_birth", "source_information_url", "ids",
]  # fmt: skip
EL = "Entity List (EL) - Bureau of Industry and Security"
MEU = "Military End User (MEU) List - Bureau of Industry and Security"
SDN = "Specially Designated Nationals (SDN) - Treasury Department"


def row(_id: str, name: str, source: str = EL, **extra: str) -> dict[str, str]:
    return {
        "_id": _id,
        "source": source,
        "entity_number": "1",  # repeats across lists: never the key
        "type": "Entity",
        "name": name,
        "addresses": f"{_id} Example Road, Shenzhen, CN",
        "federal_register_notice": "90 FR 10001",
        "start_date": "2026-11-03",
        "license_requirement": "For all items subject to the EAR.",
        "license_policy": "Presumption of denial.",
        "alt_names": "",
        **extra,
    }


def csv_of(rows: list[dict[str, str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k, "") for k in header})
    return out.getvalue().encode("utf-8")


BASE = [row(f"el-{i}", f"Example Semiconductor Parts Co. {i}") for i in range(30)] + [
    row("meu-1", "Example Aviation Institute", MEU),
    row("sdn-1", "Example Shipping Ltd.", SDN),
]


def test_columns_are_read_by_name_and_lists_by_their_code() -> None:
    shuffled = [*list(reversed(HEADER)), "a_column_added_later"]
    rows = [
        row("el-a", "Alpha Chips Ltd.", alt_names="Alpha Chips; 阿尔法芯片"),
        row("meu-a", "Beta Institute", MEU),
    ]
    entries = parse_screening_list(csv_of(rows, shuffled))
    assert [(e.list_code, e.entry_id, e.name) for e in entries] == [
        ("EL", "el-a", "Alpha Chips Ltd."),
        ("MEU", "meu-a", "Beta Institute"),
    ]
    assert entries[0].alt_names == ("Alpha Chips", "阿尔法芯片")
    assert entries[0].citation == "90 FR 10001"
    assert entries[0].countries == ("CN",)


def test_the_json_file_reads_the_same() -> None:
    data = {
        "results": [
            {
                "id": "el-j",
                "source": EL,
                "name": "Gamma Foundry",
                "alt_names": ["Gamma", "伽马晶圆"],
                "addresses": [{"address": "1 Road", "city": "Wuhan", "country": "CN"}],
                "federal_register_notice": "90 FR 20002",
            }
        ]
    }
    [entry] = parse_screening_list(json.dumps(data).encode(), "application/json")
    assert (entry.entry_id, entry.alt_names, entry.countries) == (
        "el-j",
        ("Gamma", "伽马晶圆"),
        ("CN",),
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (csv_of(BASE, [("full_name" if h == "name" else h) for h in HEADER]), "no 'name' column"),
        (csv_of(BASE)[:-40], "cut off"),
        (csv_of(BASE)[:-40] + b'"unclosed', "cut off"),
        (b"", "empty"),
        (b'{"results": [', "cut off"),
    ],
)
def test_a_broken_file_is_refused_whole(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_screening_list(content)


class ListServer:
    """Serves one list file with a strong ETag; a matching If-None-Match gets a 304."""

    def __init__(self, server: HTTPServer) -> None:
        self.body = csv_of(BASE)
        self.requests: list[int] = []
        server.expect_request("/consolidated.csv").respond_with_handler(self.handle)
        self.url = server.url_for("/consolidated.csv")

    def handle(self, request: Request) -> Response:
        etag = f'"{hash(self.body) & 0xFFFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            self.requests.append(304)
            return Response(status=304, headers={"ETag": etag})
        self.requests.append(200)
        return Response(self.body, content_type="text/csv", headers={"ETag": etag})


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def lists_home(tmp_path: Path, httpserver: HTTPServer) -> ListServer:
    served = ListServer(httpserver)
    (tmp_path / "tracker.toml").write_text(
        f'[settings]\nmin_interval = 0\nretries = 0\n\n[[sources]]\nname = "csl"\n'
        f'kind = "screening-list"\nurl = "{served.url}"\n',
        encoding="utf-8",
    )
    return served


def changes() -> list[dict[str, object]]:
    return json.loads(invoke("lists", "changes", "--since", "1d", "-f", "json").stdout)


def test_a_first_snapshot_is_a_baseline_then_changes_become_events(lists_home: ListServer) -> None:
    first = invoke("fetch")
    assert first.exit_code == 0, first.output
    counts = {r["list"]: r["entries"] for r in json.loads(invoke("lists", "-f", "json").stdout)}
    assert counts == {"EL": 30, "MEU": 1}  # SDN is opt-in
    assert changes() == []  # a baseline, not 31 additions

    again = invoke("fetch")
    assert again.exit_code == 0
    assert lists_home.requests[-1] == 304  # an unchanged list costs one 304

    changed = [r for r in BASE if r["_id"] != "el-3"]  # removed
    changed[0] = {**changed[0], "federal_register_notice": "90 FR 30003"}  # revised
    changed.append(row("el-new", "Delta Lithography Parts Co."))  # added
    lists_home.body = csv_of(changed)
    assert invoke("fetch").exit_code == 0
    events = {(e["event"], e["entry_id"]) for e in changes()}
    assert events == {("added", "el-new"), ("revised", "el-0"), ("removed", "el-3")}
    revised = next(e for e in changes() if e["event"] == "revised")
    assert revised["changed"] == ["citation"]
    wide = CliRunner().invoke(cli, ["lists", "changes", "--since", "1d"], env={"COLUMNS": "200"})
    assert "Delta Lithography Parts Co." in wide.stdout


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (csv_of(BASE[:3] + BASE[-2:]), "went from 30 entries to 3"),
        (csv_of(BASE)[:-40], "cut off"),
        (csv_of(BASE, [("full_name" if h == "name" else h) for h in HEADER]), "no 'name' column"),
    ],
)
def test_a_broken_or_implausible_snapshot_changes_nothing(
    lists_home: ListServer, body: bytes, reason: str
) -> None:
    assert invoke("fetch").exit_code == 0
    lists_home.body = body
    result = invoke("fetch")
    assert result.exit_code == 1
    status = json.loads(invoke("sources", "status", "-f", "json").stdout)[0]
    assert reason in status["last_error"]
    counts = {r["list"]: r["entries"] for r in json.loads(invoke("lists", "-f", "json").stdout)}
    assert counts == {"EL": 30, "MEU": 1}
    assert changes() == []


SMIC_ROWS = [
    row(
        "el-smic",
        "Semiconductor Manufacturing International Corporation",
        alt_names="SMIC; 中芯国际集成电路制造有限公司",
        federal_register_notice="85 FR 83420",
        start_date="2020-12-22",
    ),
    row(
        "el-smic-bj",  # a subsidiary listed on its own: never what "SMIC" means
        "Semiconductor Manufacturing International (Beijing) Corporation",
        federal_register_notice="85 FR 83420",
    ),
]


@pytest.mark.parametrize(
    "name",
    ["smic", "中芯國際集成電路製造", "Semiconductor Manufacturing International Corp.", "中芯国际"],
)
def test_entity_finds_a_listed_company_by_any_of_its_names(
    lists_home: ListServer, name: str
) -> None:
    lists_home.body = csv_of(BASE + SMIC_ROWS)
    assert invoke("fetch").exit_code == 0
    found = json.loads(invoke("entity", name, "-f", "json").stdout)["entities"]
    assert [e["id"] for e in found] == ["smic"]  # the vocabulary's SMIC and the list's, one
    assert [(e["list_code"], e["entry_id"]) for e in found[0]["entries"]] == [("EL", "el-smic")]
    assert found[0]["entries"][0]["citation"] == "85 FR 83420"
    text = CliRunner().invoke(cli, ["entity", name], env={"COLUMNS": "120"}).stdout
    assert "Entity List (EL): Semiconductor Manufacturing International Corporation" in text
    assert "2020-12-22" in text


def test_entity_says_plainly_when_a_name_is_on_no_list(lists_home: ListServer) -> None:
    assert invoke("fetch").exit_code == 0
    result = invoke("entity", "Zeta Optics")
    assert result.exit_code == 0
    assert "Zeta Optics: no entity of that name on the lists kept" in result.stdout
    short = invoke("entity", "AB")
    assert short.exit_code == 2
    assert "too short" in short.stderr
