"""Stories on news the vocabulary does not know: the names rule (issue 16)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.config.stories import StoryRules
from tracker.models import Article
from tracker.store import Store
from tracker.stories.evaluate import evaluate, load_labelled
from tracker.stories.place import place_pending
from tracker.stories.rebuild import rebuild
from tracker.stories.terms import article_terms
from tracker.tagging.tagger import Tagger
from tracker.urls import article_id

NOW = datetime(2026, 11, 30, tzinfo=UTC)
GENERAL = Path(__file__).parent / "data" / "stories-general"

# One event (invented): a ferry operator's fine, as two outlets and a Chinese site tell it.
FERRY_A = (
    "Brisk Tides fined $4.2 million over Kestrel Sound ferry fire",
    "The maritime regulator fined Brisk Tides 4.2 million dollars on Tuesday over a fire on its "
    "ferry Orla Bay in Kestrel Sound last March, in which 38 passengers were hurt. Inspectors "
    "found the operator had skipped engine room checks for 14 months.",
)
FERRY_B = (
    "Ferry operator pays for skipped engine checks",
    "Regulators have ordered Brisk Tides to pay 4.2 million dollars after concluding that "
    "missed inspections caused the blaze aboard the Orla Bay, which injured 38 people crossing "
    "Kestrel Sound. The company said it would not appeal.",
)
FERRY_ZH = (
    "Orla Bay号渡轮起火 Brisk Tides被罚420万美元",
    "海事监管机构周二对渡轮运营商Brisk Tides处以420万美元罚款，原因是其Orla Bay号渡轮去年"
    "3月在Kestrel Sound海峡起火，造成38名乘客受伤。",
)


def news(url: str, title: str, text: str, when: str, lang: str = "en") -> Article:
    return Article(
        url=url,
        source=url.split("/")[2],
        title=title,
        text=text,
        published_at=datetime.fromisoformat(when),
        lang=lang,
        extracted=True,
    )


def place(
    store: Store, tagger: Tagger, *articles: Article, rules: StoryRules | None = None
) -> None:
    for a in articles:
        store.save_batch(a.source, [(a, tagger.tag(a.title, a.text, a.lang))], now=NOW)
        place_pending(store, rules or StoryRules(), now=NOW)


def story(store: Store, a: Article) -> tuple[int, str | None]:
    row = store.db.conn.execute(
        "SELECT story_id, story_reason FROM articles WHERE id = ?", [article_id(a.url)]
    ).fetchone()
    return row[0], row[1]


# ---------------------------------------------------------------- the general-news set
@pytest.mark.parametrize(
    ("mode", "seed"), [("incremental", None), ("incremental", 3), ("rebuild", None)]
)
def test_general_news_stories_meet_the_goal(
    store: Store, tagger: Tagger, mode: str, seed: int | None
) -> None:
    labelled = load_labelled(GENERAL)
    sizes = Counter(i.story for i in labelled)
    assert sum(1 for n in sizes.values() if 2 <= n <= 5) >= 20
    assert sum(1 for n in sizes.values() if n == 1) >= 40
    assert {i.article.lang for i in labelled} >= {"en", "zh-Hans", "zh-Hant"}
    result = evaluate(labelled, store, tagger, StoryRules(), now=NOW, mode=mode, seed=seed)
    assert result.precision >= 0.97, result.false_pairs
    assert result.recall >= 0.8, result.missed_pairs


def test_without_the_names_rule_general_news_is_not_joined(store: Store, tagger: Tagger) -> None:
    """``[stories] names = false`` gives the rules before issue 16, which find almost nothing
    here: the set measures the names rule, not the vocabulary."""
    labelled = load_labelled(GENERAL)
    old = replace(StoryRules(), names=False)
    result = evaluate(labelled, store, tagger, old, now=NOW, mode="rebuild")
    assert result.recall < 0.1


# ---------------------------------------------------------------- what an article is about
def test_terms_tell_names_from_words_that_open_a_sentence() -> None:
    terms = article_terms(
        "Strike grounds Nordair flights",
        "Pilots walked out on Friday. Nordair said talks with the BALPA union failed in Oslo.",
    )
    assert {"nordair", "balpa", "oslo"} <= terms.names
    assert "pilot" in terms.all
    assert "pilot" not in terms.names
    assert "friday" not in terms.names
    title_case = article_terms("Quinn Announces Stadium Tour", "Mara Quinn will tour.")
    assert "stadium" not in title_case.names
    assert "quinn" in title_case.names


def test_figures_agree_across_languages_and_leave_dates_and_models_out() -> None:
    en = article_terms("Volant recalls 86,000 SUVs", "Volant is recalling 86,000 cars.")
    zh = article_terms("Volant召回8.6万辆SUV", "14日，Volant宣布召回8.6万辆车，2025款。")
    assert "#86000" in en.all
    assert "#86000" in zh.all
    assert "#14" not in zh.all  # 14日: the day, not a figure of the event
    assert "#2025" not in zh.all  # a year
    h20 = article_terms("Nvidia H20 shipments", "The H20 and MI308 chips.")
    assert not {t for t in h20.all if t.startswith("#")}  # model names are not figures


# ---------------------------------------------------------------- placement
def test_reports_the_vocabulary_does_not_know_join_and_say_which_names(
    store: Store, tagger: Tagger
) -> None:
    a = news("https://one.example/ferry", *FERRY_A, "2026-10-06T09:00:00+00:00")
    b = news("https://two.example/ferry-fine", *FERRY_B, "2026-10-06T15:00:00+00:00")
    place(store, tagger, a, b)
    (sa, _), (sb, reason) = story(store, a), story(store, b)
    assert sa == sb
    assert reason is not None
    assert reason.startswith("event: names (")
    names, _, numbers = reason.removeprefix("event: names (").removesuffix(")").partition("; ")
    assert names
    assert set(names.split(", ")) <= {"kestrel", "orla", "brisk", "tides", "sound", "bay"}
    assert set(numbers.split(", ")) <= {"4.2m", "38"}


def test_translation_joins_by_its_latin_names_and_figures(store: Store, tagger: Tagger) -> None:
    a = news("https://one.example/ferry", *FERRY_A, "2026-10-06T09:00:00+00:00")
    zh = news("https://hai.example/ferry", *FERRY_ZH, "2026-10-06T20:00:00+00:00", "zh-Hans")
    place(store, tagger, a, zh)
    assert story(store, a)[0] == story(store, zh)[0]


def test_translation_more_than_a_day_later_stays_apart(store: Store, tagger: Tagger) -> None:
    a = news("https://one.example/ferry", *FERRY_A, "2026-10-06T09:00:00+00:00")
    zh = news("https://hai.example/ferry", *FERRY_ZH, "2026-10-08T09:00:00+00:00", "zh-Hans")
    place(store, tagger, a, zh)
    assert story(store, a)[0] != story(store, zh)[0]


def test_same_names_with_other_figures_is_another_event(store: Store, tagger: Tagger) -> None:
    quake = news(
        "https://one.example/quake",
        "Magnitude 6.4 earthquake shakes Kushiro in eastern Hokkaido",
        "A magnitude 6.4 earthquake struck off Kushiro in eastern Hokkaido on Friday, the Japan "
        "Meteorological Agency said. Seven people were hurt and 3,200 homes lost power.",
        "2026-09-18T03:00:00+00:00",
    )
    aftershock = news(
        "https://two.example/aftershock",
        "Magnitude 5.1 aftershock rattles Kushiro in eastern Hokkaido",
        "A magnitude 5.1 aftershock struck off Kushiro in eastern Hokkaido on Saturday, the Japan "
        "Meteorological Agency said. No injuries were reported.",
        "2026-09-19T08:00:00+00:00",
    )
    place(store, tagger, quake, aftershock)
    assert story(store, quake)[0] != story(store, aftershock)[0]


def test_one_outlets_boilerplate_does_not_join_its_articles(store: Store, tagger: Tagger) -> None:
    desk = "Harbour Ledger. Markets desk, Kestrel Sound bureau. "
    a = news("https://ledger.example/1", *FERRY_A, "2026-10-06T09:00:00+00:00")
    a.text = desk + a.text
    other = news(
        "https://ledger.example/2",
        "Kestrel Sound port handles record cargo",
        desk + "The port of Kestrel Sound handled a record volume of cargo in September, its "
        "operator said on Tuesday, helped by new cranes.",
        "2026-10-06T12:00:00+00:00",
    )
    place(store, tagger, a, other)
    assert story(store, a)[0] != story(store, other)[0]


def test_term_counts_are_kept_and_the_rebuild_counts_the_same(store: Store, tagger: Tagger) -> None:
    a = news("https://one.example/ferry", *FERRY_A, "2026-10-06T09:00:00+00:00")
    b = news("https://two.example/ferry-fine", *FERRY_B, "2026-10-06T15:00:00+00:00")
    zh = news("https://hai.example/ferry", *FERRY_ZH, "2026-10-06T20:00:00+00:00", "zh-Hans")
    place(store, tagger, a, b, zh)
    counts = dict(store.db.conn.execute("SELECT term, df FROM story_terms").fetchall())
    assert counts[""] == 3  # the articles counted
    assert counts["kestrel"] == 3
    assert counts["#38"] == 3
    rebuild(store, StoryRules(), now=NOW)
    assert dict(store.db.conn.execute("SELECT term, df FROM story_terms").fetchall()) == counts


def test_cli_show_names_what_the_members_share(tmp_path: Path, tagger: Tagger) -> None:
    store = Store.open(tmp_path / "tracker.db")
    a = news("https://one.example/ferry", *FERRY_A, "2026-10-06T09:00:00+00:00")
    b = news("https://two.example/ferry-fine", *FERRY_B, "2026-10-06T15:00:00+00:00")
    place(store, tagger, a, b)
    store.close()
    runner = CliRunner()
    shown = runner.invoke(cli, ["--db", str(tmp_path / "tracker.db"), "show", article_id(a.url)])
    assert shown.exit_code == 0, shown.output
    assert "event: names (" in shown.output
    as_json = runner.invoke(
        cli, ["--db", str(tmp_path / "tracker.db"), "show", article_id(a.url), "-f", "json"]
    )
    members = json.loads(as_json.output)["story"]
    assert any((m["reason"] or "").startswith("event: names") for m in members)


def test_names_rule_thresholds_are_read_from_the_config(tmp_path: Path) -> None:
    (tmp_path / "tracker.toml").write_text(
        '[stories]\nnames = false\nname_similarity = "high"\n', encoding="utf-8"
    )
    Store.open(tmp_path / "t.db").close()
    args = ["--config", str(tmp_path / "tracker.toml"), "--db", str(tmp_path / "t.db")]
    result = CliRunner().invoke(cli, [*args, "stories", "rebuild"])
    assert result.exit_code == 2
    assert "[stories] name_similarity = 'high' is not a number" in result.output
    (tmp_path / "tracker.toml").write_text("[stories]\nnames = false\n", encoding="utf-8")
    assert CliRunner().invoke(cli, [*args, "stories", "rebuild"]).exit_code == 0
