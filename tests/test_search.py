"""Search: the safe query language, Chinese in either script, filters, listing, snippets."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracker.errors import QueryError
from tracker.models import Article
from tracker.search.engine import parse_query, parse_when, search, to_fts
from tracker.store import Store
from tracker.tagging.tagger import Tagger

NOW = datetime(2025, 12, 10, tzinfo=UTC)
DOCS = [
    (
        "https://a.test/en1",
        "wire",
        "en",
        "2025-12-03",
        "Commerce adds 23 firms to the Entity List",
        "BIS added companies to the Entity List, citing support for SMIC. Licences face a presumption of denial.",
    ),
    (
        "https://a.test/en2",
        "wire",
        "en",
        "2025-08-12",
        "Nvidia gets H20 licences",
        "The Commerce Department granted licences for the H20. The H200 was not included.",
    ),
    (
        "https://a.test/en3",
        "reviews",
        "en",
        "2025-11-02",
        "Phone review",
        "A bright screen and an older Intel modem. Battery restrictions apply.",
    ),
    (
        "https://a.test/zh1",
        "zh",
        "zh-Hans",
        "2025-12-03",
        "美国将23家中国企业列入实体清单",
        "美国商务部工业和安全局将23家中国企业列入实体清单，出口管制进一步收紧。",
    ),
    (
        "https://a.test/zh2",
        "zh",
        "zh-Hans",
        "2025-10-21",
        "镓锗出口下降",
        "中国镓和锗的出口量连续下降，英伟达H20芯片不受影响。",
    ),
    (
        "https://a.test/tw1",
        "tw",
        "zh-Hant",
        "2025-12-09",
        "川普允許輝達H200銷往中國",
        "美國總統川普表示允許英偉達銷售H200晶片，出口管制仍然有效。",
    ),
]


@pytest.fixture
def filled(store: Store, tagger: Tagger) -> Store:
    batch = []
    for url, source, lang, day, title, text in DOCS:
        a = Article(
            url=url,
            source=source,
            title=title,
            text=text,
            lang=lang,
            published_at=datetime.fromisoformat(day).replace(tzinfo=UTC),
        )
        batch.append((a, tagger.tag(title, text)))
    store.save_batch("x", batch, now=NOW)
    return store


def urls(hits) -> list[str]:
    return [h.url.rsplit("/", 1)[1] for h in hits]


def test_words_are_and_ed(filled: Store) -> None:
    assert urls(search(filled, "entity smic")) == ["en1"]


def test_stemming_matches_plural_forms(filled: Store) -> None:
    assert set(urls(search(filled, "licence"))) == {"en1", "en2"}
    assert urls(search(filled, "restriction")) == ["en3"]


def test_phrase_or_exclude_and_prefix(filled: Store) -> None:
    assert urls(search(filled, '"entity list"')) == ["en1"]
    assert set(urls(search(filled, "smic OR modem"))) == {"en1", "en3"}
    assert urls(search(filled, "licences -h200")) == ["en1"]
    assert set(urls(search(filled, "presum*"))) == {"en1"}


def test_title_matches_rank_first(filled: Store) -> None:
    hits = search(filled, "licences")
    assert urls(hits)[0] == "en2"  # "licences" in its title
    assert hits[0].score is not None
    assert hits[0].score > hits[1].score


def test_h20_does_not_find_h200_only_articles(filled: Store) -> None:
    assert set(urls(search(filled, "H20"))) == {"en2", "zh2"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("实体清单", {"zh1"}),
        ("實體清單", {"zh1"}),  # traditional query finds simplified text
        ("出口管制", {"zh1", "tw1"}),
        ("英伟达", {"zh2", "tw1"}),  # 英偉達 in tw1 folds to 英伟达
        ("芯片", {"zh2"}),
        ("镓", {"zh2"}),
        ("锗", {"zh2"}),  # ends a run in the title (镓锗) and in the text (和锗)
        ("H20", {"en2", "zh2"}),  # a model number glued to Chinese
    ],
)
def test_chinese_queries_of_any_length_and_either_script(
    filled: Store, query: str, expected: set[str]
) -> None:
    assert set(urls(search(filled, query))) >= expected


def test_filters_tag_lang_source_and_dates(filled: Store) -> None:
    assert urls(search(filled, tags=["company:smic"])) == ["en1"]
    assert set(urls(search(filled, lang="zh"))) == {"zh1", "zh2", "tw1"}
    assert urls(search(filled, lang="zh-Hant")) == ["tw1"]
    assert set(urls(search(filled, sources=["reviews", "tw"]))) == {"en3", "tw1"}
    since = parse_when("6d", NOW)
    assert set(urls(search(filled, since=since))) == {"tw1"}
    assert set(
        urls(
            search(filled, since=parse_when("2025-12-01", NOW), until=parse_when("2025-12-05", NOW))
        )
    ) == {"en1", "zh1"}
    assert urls(search(filled, "出口管制", tags=["person:donald-trump"])) == ["tw1"]


def test_no_query_lists_newest_first(filled: Store) -> None:
    newest = urls(search(filled, limit=3))
    assert newest[0] == "tw1"
    assert set(newest[1:]) == {"en1", "zh1"}  # published the same day


def test_snippet_marks_matches_in_the_original_script(filled: Store) -> None:
    (hit,) = search(filled, "英伟达", lang="zh-Hant")
    assert "[英偉達]" in hit.snippet
    (hit,) = search(filled, "smic")
    assert "[SMIC]" in hit.snippet


def test_json_rows_carry_tags_as_objects(filled: Store) -> None:
    (hit,) = search(filled, "smic")
    row = hit.as_dict()
    assert {"id", "url", "title", "source", "published_at", "lang", "snippet", "tags"} <= row.keys()
    assert {"kind": "company", "slug": "smic", "name": "SMIC"}.items() <= next(
        t for t in row["tags"] if t["slug"] == "smic"
    ).items()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('"entity list', "unclosed quote at position 1"),
        ("licence OR", "ends with OR"),
        ("OR licence", "OR at position 1"),
        ("-h200", "not excluded"),
        ("!!! ???", "no searchable words"),
    ],
)
def test_malformed_queries_are_one_line_errors(filled: Store, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        search(filled, query)


@pytest.mark.parametrize(
    "hostile", ["NEAR(a b)", "a AND", "*", "title:x", '")(', "col:;DROP TABLE articles"]
)
def test_fts5_syntax_never_reaches_sqlite(filled: Store, hostile: str) -> None:
    with contextlib.suppress(QueryError):  # a clear error is fine; sqlite3.OperationalError is not
        search(filled, hostile)
    assert filled.count() == len(DOCS)


def test_every_user_term_is_quoted() -> None:
    assert to_fts(parse_query('nvidia "entity list" -h200 lic*').groups) == (
        '(("nvidia" AND "entity list" AND "lic" *) NOT "h200")'
    )


def test_unknown_tag_suggests_the_close_one(filled: Store) -> None:
    with pytest.raises(QueryError, match="did you mean company:nvidia"):
        search(filled, tags=["company:nvida"], known_tags={"company:nvidia", "company:amd"})
    with pytest.raises(QueryError, match="kind:slug"):
        search(filled, tags=["nvidia"], known_tags={"company:nvidia"})


def test_parse_when_forms() -> None:
    assert parse_when("24h", NOW) == datetime(2025, 12, 9, tzinfo=UTC)
    assert parse_when("2w", NOW) == datetime(2025, 11, 26, tzinfo=UTC)
    assert parse_when("2025-08-12", NOW) == datetime(2025, 8, 12, tzinfo=UTC)
    with pytest.raises(QueryError, match="7d"):
        parse_when("last week", NOW)


def test_an_alias_finds_articles_tagged_with_it_in_any_language(
    filled: Store, tagger: Tagger
) -> None:
    exact = set(urls(search(filled, "英伟达")))
    expanded = search(filled, "英伟达", expand=tagger.lookup)
    assert exact < set(urls(expanded))
    assert "en2" in urls(expanded)  # an English Nvidia story, found by its tag
    assert expanded[0].expanded == {"英伟达": ["company:nvidia"]}


def test_words_that_together_are_an_alias_are_joined(filled: Store, tagger: Tagger) -> None:
    hits = search(filled, "Entity List", expand=tagger.lookup)
    assert {"en1", "zh1"} <= set(urls(hits))  # 实体清单 found from English words
    assert hits[0].expanded == {"Entity List": ["policy:entity-list"]}


def test_licence_finds_license(store: Store, tagger: Tagger) -> None:
    a = Article(
        url="https://a.test/us",
        source="s",
        title="Export license rules",
        text="A license is needed.",
    )
    store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=NOW)
    assert urls(search(store, "licence")) == ["us"]
    assert urls(search(store, "licences")) == ["us"]


def test_title_field_and_inline_filters(filled: Store) -> None:
    assert urls(search(filled, "title:licences")) == ["en2"]
    assert urls(search(filled, "licences -title:licences")) == ["en1"]
    assert set(urls(search(filled, "出口管制 lang:zh-Hant"))) == {"tw1"}
    assert urls(search(filled, "licences company:smic")) == ["en1"]
    assert set(urls(search(filled, "source:tw source:reviews"))) == {"tw1", "en3"}


def test_sort_orders(filled: Store) -> None:
    newest = urls(search(filled, "出口管制", sort="newest"))
    assert newest == ["tw1", "zh1"]
    assert urls(search(filled, "出口管制", sort="oldest")) == ["zh1", "tw1"]
    with pytest.raises(QueryError, match="unknown sort"):
        search(filled, "x", sort="random")


def test_raw_passes_fts5_syntax_and_reports_its_errors(filled: Store) -> None:
    assert urls(search(filled, "NEAR(smic presumption, 10)", raw=True)) == ["en1"]
    with pytest.raises(QueryError, match="FTS5 syntax error"):
        search(filled, "NEAR(smic", raw=True)


def test_a_tagged_title_ranks_above_a_passing_mention(store: Store, tagger: Tagger) -> None:
    about = Article(
        url="https://a.test/about",
        source="s",
        title="Nvidia wins licences",
        text="Licences for H20.",
    )
    mention = Article(
        url="https://a.test/mention",
        source="s",
        title="Licences for chips",
        text="Licences for H20 chips, said a rival of Nvidia.",
    )
    store.save_batch("s", [(x, tagger.tag(x.title, x.text)) for x in (mention, about)], now=NOW)
    assert urls(search(store, "nvidia", expand=tagger.lookup))[0] == "about"


def test_the_index_follows_a_retag(store: Store, tagger: Tagger, tmp_path: Path) -> None:
    from tracker.tagging.retag import run_retag
    from tracker.tagging.vocabulary import load_vocabulary

    a = Article(url="https://a.test/u", source="s", title="紫光展锐 results", text="Revenue grew.")
    store.save_batch("s", [(a, tagger.tag(a.title, a.text))], now=NOW)
    extra = tmp_path / "v.toml"
    extra.write_text(
        '[[company]]\nslug = "unisoc"\nname = "UNISOC"\naliases = ["紫光展锐", "UNISOC"]\n',
        encoding="utf-8",
    )
    wider = Tagger(load_vocabulary(extra))
    assert search(store, "UNISOC", expand=wider.lookup) == []  # not tagged yet
    run_retag(store, wider)
    assert urls(search(store, "UNISOC", expand=wider.lookup)) == ["u"]


def many(store: Store, tagger: Tagger, n: int = 30) -> None:
    batch = []
    for i in range(n):
        lang = (
            "zh-Hans" if i == 0 else "en"
        )  # the only Chinese one is the oldest and least relevant
        # The Chinese one mentions Nvidia once in a long text: bm25 ranks it last.
        text = "Nvidia " + "filler " * 300 + "英伟达" if i == 0 else "Nvidia " * 5
        a = Article(
            url=f"https://m.test/{i}",
            source="s",
            title=f"Story {i}",
            text=text,
            lang=lang,
            published_at=datetime(2025, 1, 1, tzinfo=UTC) + (i * (NOW - NOW.replace(day=1))) / 30,
        )
        batch.append((a, tagger.tag(a.title, a.text)))
    store.save_batch("s", batch, now=NOW)


def test_filters_that_reject_the_best_candidates_still_find_the_rest(
    store: Store, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    many(store, tagger, 120)
    import tracker.store.search

    monkeypatch.setattr(tracker.store.search, "LARGE_MATCH", 10**9)
    # The 50 best candidates are all English; the filter leaves none, so all 120 are ranked.
    hits = search(store, "nvidia", lang="zh", limit=1)
    assert urls(hits) == ["0"]


def test_common_and_rare_tag_paths_agree(
    store: Store, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    many(store, tagger)
    import tracker.store.search

    rare = urls(search(store, tags=["company:nvidia"], limit=5))
    monkeypatch.setattr(tracker.store.search, "COMMON_TAG", 0)  # every tag counts as common
    assert urls(search(store, tags=["company:nvidia"], limit=5)) == rare
    assert rare[0] == "29"  # the newest


def test_a_huge_match_set_is_ranked_among_its_newest(
    store: Store, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    many(store, tagger)
    import tracker.store.search

    monkeypatch.setattr(tracker.store.search, "LARGE_MATCH", 10)
    found = [int(u) for u in urls(search(store, "nvidia", limit=30))]
    assert found
    assert min(found) >= 15  # only the newest part of the 30 matches was considered


def test_a_phrase_is_ranked_among_the_newest_articles_when_they_hold_a_page(
    store: Store, tagger: Tagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracker.store.search as search_module

    monkeypatch.setattr(search_module, "RECENT_SLICE", 3)  # as if the store were large
    old = Article(
        url="https://x.example/old",
        source="s",
        title="Presumption of denial: the licensing policy explained",
        text="A presumption of denial applies to licence applications.",
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
        lang="en",
    )
    store.save_batch(
        "s", [(old, tagger.tag(old.title, old.text))], now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    for i in range(3):
        new = Article(
            url=f"https://x.example/new{i}",
            source="s",
            title=f"Rule {i}",
            text="Applications face a presumption of denial under the rule.",
            published_at=datetime(2026, 6, 1 + i, tzinfo=UTC),
            lang="en",
        )
        store.save_batch(
            "s", [(new, tagger.tag(new.title, new.text))], now=datetime(2026, 6, 2, tzinfo=UTC)
        )
    # Two results wanted, three recent matches: the (better) old one is not ranked.
    assert "https://x.example/old" not in [
        h.url for h in search(store, '"presumption of denial"', limit=2)
    ]
    # Four wanted, fewer among the recent: every match is ranked, the title match first.
    assert search(store, '"presumption of denial"', limit=4)[0].url == "https://x.example/old"


def test_a_phrase_ranks_headline_matches_first_even_by_tag(store: Store, tagger: Tagger) -> None:
    def add(url: str, title: str, text: str, day: int, lang: str = "en") -> None:
        a = Article(
            url=url,
            source="s",
            title=title,
            text=text,
            published_at=datetime(2026, 6, day, tzinfo=UTC),
            lang=lang,
        )
        store.save_batch("s", [(a, tagger.tag(a.title, a.text, lang))], now=a.published_at)

    add(
        "https://x.example/zh",
        "美国将12家企业列入实体清单",
        "美国商务部将12家企业列入实体清单。",
        1,
        "zh-Hans",
    )
    add("https://x.example/title", "Entity List grows again", "Twelve companies were added.", 2)
    add(
        "https://x.example/body", "Chip stocks fall", "Traders cited the Entity List in passing.", 3
    )
    hits = search(store, '"entity list"', expand=tagger.lookup, limit=3)  # the slice holds a page
    assert [h.url for h in hits][-1] == "https://x.example/body"  # newest, but only in the body
    assert {h.url for h in hits[:2]} == {"https://x.example/zh", "https://x.example/title"}


def test_a_headline_naming_the_tag_outranks_a_passing_mention_in_any_language(
    store: Store, tagger: Tagger
) -> None:
    def add(url: str, title: str, text: str, lang: str) -> None:
        a = Article(
            url=url,
            source="s",
            title=title,
            text=text,
            published_at=datetime(2026, 6, 1, tzinfo=UTC),
            lang=lang,
        )
        store.save_batch("s", [(a, tagger.tag(a.title, a.text, lang))], now=a.published_at)

    add("https://x.example/zh", "英伟达获得H20出口许可", "英伟达表示已获得许可。", "zh-Hans")
    add(
        "https://x.example/passing",
        "Chip stocks rise",
        "Shares of Nvidia rose, among many other things that moved the market on a busy day.",
        "en",
    )
    for i in range(10):  # enough other articles for the words to be rare, as in a real store
        add(f"https://x.example/f{i}", f"Weather {i}", "Sunny with light wind.", "en")
    hits = search(store, "nvidia", expand=tagger.lookup)
    assert [h.url for h in hits] == ["https://x.example/zh", "https://x.example/passing"]
    # --exact: words only, so only the English article
    assert [h.url for h in search(store, "nvidia")] == ["https://x.example/passing"]


def test_aliases_their_tags_cover_match_by_tag_and_find_the_same(
    filled: Store, tagger: Tagger
) -> None:
    assert tagger.covers("英伟达")
    assert tagger.covers("輝達")  # any script
    assert not tagger.covers("nvidia")  # Latin words are stemmed by the index, tags are not
    assert not tagger.covers(
        "出口管制"
    )  # 出口管制法 is another tag's alias: not every 出口管制 is tagged
    assert not tagger.covers("超微")  # decided by context
    assert not tagger.covers("芯片")  # not an alias
    for word in ("英伟达", "輝達", "镓", "锗"):
        by_words = {h.id for h in search(filled, word, expand=tagger.lookup, limit=100)}
        by_tag = {
            h.id
            for h in search(filled, word, expand=tagger.lookup, covers=tagger.covers, limit=100)
        }
        assert by_words, word  # the fixture holds the word
        assert by_tag == by_words, word
