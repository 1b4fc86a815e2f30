"""Entities: one per organisation across lists, vocabulary and scripts; articles linked to them.

Through the CLI against loopback servers: a screening list (tests/data/entities/lists.csv) and a
feed of articles written for the tests.
"""

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

DATA = Path(__file__).parent / "data" / "entities"
NOW = datetime.now(UTC).replace(microsecond=0)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def item(n: int, title: str, text: str) -> dict[str, str]:
    date = (NOW - timedelta(hours=n)).isoformat()
    return {"title": title, "link": f"http://news.test/{n}", "description": text, "date": date}


ARTICLES = [
    item(1, "Camera maker's shares fall", "Hangzhou Hikvision Digital Technology Co., Ltd. fell."),
    item(2, "海康威视股价下跌", "海康威视的摄像头被禁止用于联邦建筑。"),
    item(3, "Hikrobot raises funds", "Hikrobot, a maker of machine-vision systems, raised money."),
    item(4, "Sugon shares rise", "Sugon shares rose after the earnings call."),
    item(5, "Lens makers", "Like a phoenix, the market rose from the ashes of last year."),
]


class Home:
    def __init__(self, tmp_path: Path, server: HTTPServer) -> None:
        self.lists: bytes | None = None
        self.feed = rss(ARTICLES)
        server.expect_request("/lists.csv").respond_with_handler(
            lambda r: Response(self.lists or b"", status=200 if self.lists else 404)
        )
        server.expect_request("/feed.xml").respond_with_handler(
            lambda r: Response(self.feed, content_type="application/rss+xml")
        )
        (tmp_path / "tracker.toml").write_text(
            "[settings]\nmin_interval = 0\nretries = 0\n\n"
            f'[[sources]]\nname = "csl"\nkind = "screening-list"\n'
            f'url = "{server.url_for("/lists.csv")}"\nlists = ["EL", "MEU", "UVL"]\n\n'
            f'[[sources]]\nname = "news"\nkind = "rss"\nurl = "{server.url_for("/feed.xml")}"\n',
            encoding="utf-8",
        )


@pytest.fixture
def home(tmp_path: Path, httpserver: HTTPServer) -> Home:
    return Home(tmp_path, httpserver)


def entity_json(name: str) -> list[dict[str, object]]:
    result = invoke("entity", name, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["entities"]  # type: ignore[no-any-return]


def titles(ent: dict[str, object]) -> set[str]:
    return {str(a["title"]) for a in ent["articles"]}  # type: ignore[attr-defined]


def search_titles(query: str) -> set[str]:
    result = invoke("search", query, "-f", "json", "--since", "30d")
    assert result.exit_code == 0, result.output
    return {h["title"] for h in json.loads(result.stdout)}


def test_the_labelled_mentions_resolve_with_the_precision_and_recall_asked() -> None:
    result = invoke(
        "eval-entities", str(DATA), "--min-precision", "0.98", "--min-recall", "0.9", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    scores = {r["lang"]: r for r in json.loads(result.stdout)}
    assert {lang: scores[lang]["mentions"] >= 25 for lang in ("en", "zh-Hans", "zh-Hant")} == {
        "en": True,
        "zh-Hans": True,
        "zh-Hant": True,
    }
    assert scores["all"]["mentions"] >= 80


def test_a_lower_bar_than_measured_fails_with_the_language_named(tmp_path: Path) -> None:
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "lists.csv").write_bytes((DATA / "lists.csv").read_bytes())
    (tmp_path / "set" / "m.toml").write_text(
        '[[mention]]\nlang = "zh-Hant"\ntext = "中芯表示"\nentity = "smic"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["eval-entities", str(tmp_path / "set"), "--min-recall", "0.9"]
    )
    assert result.exit_code == 1
    assert "below the minimum in zh-Hant" in result.output


@pytest.mark.parametrize("name", ["hikvision", "海康威視", "Hangzhou Hikvision Digital Technology"])
def test_an_entity_gathers_its_articles_in_both_languages_and_not_a_similar_name(
    home: Home, name: str
) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch").exit_code == 0
    [ent] = entity_json(name)
    assert ent["id"] == "hikvision"
    assert [(e["list_code"], e["citation"]) for e in ent["entries"]] == [("EL", "84 FR 54002")]  # type: ignore[index]
    assert titles(ent) == {"Camera maker's shares fall", "海康威视股价下跌"}  # not Hikrobot


def test_names_new_to_the_store_link_the_articles_already_there(home: Home) -> None:
    assert invoke("fetch").exit_code == 1  # the list is not there yet: csl fails, news stored
    [before] = entity_json("sugon")  # known by name (entities.toml), on no list yet
    assert (before["entries"], before["articles"]) == ([], [])
    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch", "--force").exit_code == 0  # the list arrives after the articles
    [sugon] = entity_json("sugon")
    assert titles(sugon) == {"Sugon shares rise"}
    [hik] = entity_json("hikvision")
    assert titles(hik) == {"Camera maker's shares fall", "海康威视股价下跌"}
    assert entity_json("phoenix optics")[0]["articles"] == []  # "a phoenix" is a common word


def test_a_first_list_in_a_big_store_reads_every_article_once_with_the_same_links(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracker.record.linking as linking

    monkeypatch.setattr(linking, "FULL_SCAN_KEYS", 0)  # as if the list brought many new names
    invoke("fetch")
    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch", "--force").exit_code == 0
    assert titles(entity_json("sugon")[0]) == {"Sugon shares rise"}
    assert titles(entity_json("hikvision")[0]) == {"Camera maker's shares fall", "海康威视股价下跌"}


def test_search_filters_by_entity_and_by_list_and_rows_carry_entities(home: Home) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch").exit_code == 0
    assert search_titles("entity:hikvision") == {"Camera maker's shares fall", "海康威视股价下跌"}
    assert search_titles("shares entity:sugon") == {"Sugon shares rise"}
    assert search_titles("listed:entity-list") == {
        "Camera maker's shares fall",
        "海康威视股价下跌",
        "Sugon shares rise",
    }
    assert search_titles("listed:meu") == set()
    hits = json.loads(invoke("search", "entity:sugon", "-f", "json").stdout)
    shown = json.loads(invoke("show", hits[0]["id"], "-f", "json").stdout)
    assert [e["id"] for e in shown["entities"]] == ["sugon"]
    page = CliRunner().invoke(cli, ["show", hits[0]["id"]], env={"COLUMNS": "80"}).stdout
    assert "entities  sugon (EL)" in page
    assert hits[0]["entities"] == [
        {"id": "sugon", "name": "Dawning Information Industry Co., Ltd.", "lists": ["EL"]}
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("entity:no-such-company", "entity:no-such-company: no entity"),
        ("listed:nope", "no such list"),
    ],
)
def test_an_unknown_entity_or_list_is_a_usage_error(home: Home, query: str, message: str) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    invoke("fetch")
    result = CliRunner().invoke(cli, ["search", query])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_article_whose_text_changes_is_linked_again(home: Home) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch").exit_code == 0
    home.feed = rss(
        [item(4, "Shares rise", "Megvii shares rose after the earnings call."), *ARTICLES[:1]]
    )
    assert invoke("fetch").exit_code == 0
    assert titles(entity_json("sugon")[0]) == set()
    assert titles(entity_json("megvii")[0]) == {"Shares rise"}


def test_the_entity_page_reads_at_80_columns(home: Home) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch").exit_code == 0
    text = CliRunner().invoke(cli, ["entity", "海康威视"], env={"COLUMNS": "80"}).stdout
    assert "Hangzhou Hikvision Digital Technology Co., Ltd.  (entity:hikvision)" in text
    assert "Entity List (EL)" in text
    assert "84 FR 54002" in text
    assert "海康威视股价下跌" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_listed_subsidiary_is_its_own_entity_and_its_articles_count_for_the_parent(
    home: Home,
) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    home.feed = rss(
        [
            item(
                1, "Cloud unit listed", "Huawei Cloud Computing Technologies Co., Ltd. was added."
            ),
            item(2, "Phones", "Sales of Huawei phones rose."),
        ]
    )
    assert invoke("fetch").exit_code == 0
    [cloud] = entity_json("Huawei Cloud Computing Technologies")
    assert (cloud["id"], cloud["parent"]) == ("huawei-cloud", "huawei")
    assert titles(cloud) == {"Cloud unit listed"}  # not every Huawei article
    assert titles(entity_json("huawei")[0]) == {"Cloud unit listed", "Phones"}
    assert search_titles("entity:huawei-cloud") == {"Cloud unit listed"}
    text = CliRunner().invoke(cli, ["entity", "huawei-cloud"], env={"COLUMNS": "100"}).stdout
    assert "part of entity:huawei" in text


def test_list_events_link_to_their_entity_and_the_news_about_it(home: Home) -> None:
    lists = (DATA / "lists.csv").read_text(encoding="utf-8")
    # The list before Sugon was added, then with it: one "added" event.
    home.lists = "\n".join(x for x in lists.splitlines() if "el-sugon" not in x).encode()
    assert invoke("fetch").exit_code == 0
    home.lists = lists.encode()
    assert invoke("fetch", "--force").exit_code == 0
    events = json.loads(invoke("lists", "changes", "--since", "1d", "-f", "json").stdout)
    [added] = [e for e in events if e["event"] == "added"]
    assert (added["entry_id"], added["entity"]) == ("el-sugon", "sugon")
    assert len(added["news"]) == 1  # the article "Sugon shares rise"


def test_entity_rows_pipe_as_csv(home: Home) -> None:
    import csv
    import io

    home.lists = (DATA / "lists.csv").read_bytes()
    assert invoke("fetch").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(invoke("entity", "海康威视", "-f", "csv").stdout)))
    assert [(r["entity"], r["list"], r["citation"], r["articles"]) for r in rows] == [
        ("hikvision", "EL", "84 FR 54002", "2")
    ]


def test_an_interrupted_link_resumes_and_ends_as_one_uninterrupted_run(tmp_path: Path) -> None:
    from tracker.models import Article
    from tracker.record.linking import FULL_SCAN_KEYS, link_articles
    from tracker.record.names import name_keys
    from tracker.record.screening import parse_screening_list
    from tracker.store import Store
    from tracker.store.record import apply_snapshot

    def store_at(path: Path) -> Store:
        store = Store.open(path)
        batch = [
            (Article(url=f"http://n.test/{i}", source="n", title=f"Item {i}", text=text), [])
            for i, text in enumerate(
                ["Sugon shares rose.", "海康威视发布年报。", "Nothing here."] * 400
            )
        ]
        store.save_batch("n", batch, now=NOW)
        entries = parse_screening_list((DATA / "lists.csv").read_bytes())
        rows = [{**e.as_row(), "keys": name_keys([e.name, *e.alt_names])} for e in entries]
        apply_snapshot(store, "csl", rows, [], NOW)
        return store

    def mentions(store: Store) -> set[tuple[str, str]]:
        return {
            (r[0], r[1]) for r in store.db.execute("SELECT article_id, key FROM article_mentions")
        }

    assert FULL_SCAN_KEYS > 0
    whole = store_at(tmp_path / "whole.db")
    link_articles(whole, [])
    stopped = store_at(tmp_path / "stopped.db")
    calls = iter(range(1000))
    first = link_articles(stopped, [], should_stop=lambda: next(calls) == 0)  # stop after a batch
    assert 0 < first.articles_read < 1200
    link_articles(stopped, [])
    assert mentions(stopped) == mentions(whole)
    assert len(mentions(whole)) == 800
    assert link_articles(stopped, []).articles_read == 0  # nothing left to do


def test_a_new_name_is_found_in_stored_articles_that_write_it_with_legal_words(
    home: Home,
) -> None:
    home.feed = rss(
        [item(1, "Trading house named", "Example Trading Company 7 Limited was named.")]
    )
    assert invoke("fetch").exit_code == 1  # no list yet: the article is stored, the list fails
    head, *rows = (DATA / "lists.csv").read_text(encoding="utf-8").splitlines()
    extra = (
        rows[0]
        .replace("el-smic,", "el-x7,")
        .replace(
            "Semiconductor Manufacturing International Corporation",
            "Example Trading Company 7 Limited",
        )
        .replace(",SMIC,", ",,")
    )
    home.lists = "\n".join([head, *rows, extra]).encode()
    assert invoke("fetch", "--force").exit_code == 0
    [ent] = entity_json("Example Trading Company 7 Limited")
    assert titles(ent) == {"Trading house named"}


def test_a_digest_subscriber_can_follow_an_entity(home: Home, tmp_path: Path) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    home.feed = rss(
        [
            item(
                1,
                "Hikvision added to the Entity List",
                "Hikvision was added to the Entity List under export controls.",
            ),
            item(
                2,
                "Sugon added to the Entity List",
                "Sugon was added to the Entity List under export controls.",
            ),
        ]
    )
    config = tmp_path / "tracker.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[digest.subscribers]]\nemail = "a@example.org"\nfilter = "entity:hikvision"\n',
        encoding="utf-8",
    )
    assert invoke("fetch").exit_code == 0
    text = invoke("digest", "--since", "7d").stdout
    assert "Hikvision added to the Entity List" in text
    assert "Sugon added" not in text  # a filter on an entity is not "everything"


def test_a_subscriber_following_an_unknown_entity_fails_alone(home: Home, tmp_path: Path) -> None:
    home.lists = (DATA / "lists.csv").read_bytes()
    config = tmp_path / "tracker.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[digest.subscribers]]\nemail = "a@example.org"\nfilter = "entity:no-such-firm"\n'
        + '\n[[digest.subscribers]]\nemail = "b@example.org"\n',
        encoding="utf-8",
    )
    assert invoke("fetch").exit_code == 0
    result = CliRunner().invoke(cli, ["digest", "--dry-run", "--since", "7d"])
    assert "a@example.org" in result.output
    assert "entity:no-such-firm: no entity" in result.output
    assert "b@example.org" in result.output  # the other subscriber's digest is still built
