"""The digest leads with what matters: the biggest story first (in the subject too), a short
"Today" block, news by publication date (old finds under "Found late" or left out), an item's
own tags (a few, the most specific first), official sources, display names, and Chinese drawn
in its own script."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tracker.config.digest import DigestSettings, Subscriber
from tracker.config.stories import StoryRules
from tracker.digest.build import Digest, Window, build_digest
from tracker.digest.render import render_html, render_text, subject, wrap_cells
from tracker.models import Article, Source
from tracker.store import Store
from tracker.stories.place import place_pending
from tracker.tagging.tagger import Tagger, relevance

NOW = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
SETTINGS = DigestSettings()
ANA = Subscriber(email="ana@example.org")

ENTITY = (
    "The Bureau of Industry and Security added 23 Chinese companies to the Entity List, citing "
    "support for SMIC's advanced chipmaking. Exporters need a licence with a presumption of denial."
)
H20 = (
    "Nvidia will resume sales of its H20 chip to China after the Commerce Department granted "
    "export licences. The company expects shipments to start soon."
)


def save(
    store: Store,
    tagger: Tagger,
    source: str,
    url: str,
    title: str,
    text: str,
    published: datetime | None,
    lang: str = "en",
) -> None:
    article = Article(
        url=url, source=source, title=title, text=text, published_at=published, lang=lang
    )
    hits = tagger.tag(title, text, lang)
    article.relevance = relevance(hits, tagger.weights())
    store.save_batch(source, [(article, hits)], now=NOW - timedelta(hours=1))


def digest_of(store: Store, sub: Subscriber = ANA, settings: DigestSettings = SETTINGS) -> Digest:
    place_pending(store, StoryRules(), now=NOW)
    window = Window(store, NOW - timedelta(hours=24), NOW)
    return build_digest(store, sub, window, settings=settings)


def test_the_biggest_story_leads_the_digest_and_its_subject(store: Store, tagger: Tagger) -> None:
    # One licence story told once, and an Entity List story carried by four outlets. Themes put
    # "Company licences" before "US controls": the subject must not follow the theme order.
    save(
        store, tagger, "wire", "https://w.test/h20", "Nvidia to resume H20 sales to China", H20, NOW
    )
    for i, outlet in enumerate(["a", "b", "c", "d"]):
        save(
            store,
            tagger,
            outlet,
            f"https://{outlet}.test/el",
            "US adds 23 Chinese firms to the Entity List",
            ENTITY,
            NOW - timedelta(hours=i + 1),
        )
    digest = digest_of(store)
    assert digest.today[0].title == "US adds 23 Chinese firms to the Entity List"
    assert subject(digest, SETTINGS).split(": ", 1)[1].startswith("US adds 23 Chinese firms")
    text = render_text(digest, SETTINGS)
    assert text.index("TODAY") < text.index("COMPANY LICENCES")
    assert "1. US adds 23 Chinese firms to the Entity List" in text


def test_news_is_dated_by_publication_not_by_when_it_was_found(
    store: Store, tagger: Tagger
) -> None:
    save(store, tagger, "wire", "https://w.test/new", "Nvidia to resume H20 sales", H20, NOW)
    save(
        store,
        tagger,
        "wire",
        "https://w.test/week",
        "US adds 23 Chinese firms to the Entity List",
        ENTITY,
        NOW - timedelta(days=5),
    )
    save(
        store,
        tagger,
        "archive",
        "https://w.test/year",
        "Commerce adds entities to the Entity List (2025)",
        ENTITY.replace("23", "12"),
        NOW - timedelta(days=365),
    )
    digest = digest_of(store)
    assert [i.title for i in digest.stories] == ["Nvidia to resume H20 sales"]
    assert [i.title for i in digest.late] == ["US adds 23 Chinese firms to the Entity List"]
    text = render_text(digest, SETTINGS)
    assert "FOUND LATE" in text
    assert "(2025)" not in text  # a year old: not news, left out
    year_old = store.db.query("SELECT id FROM articles WHERE url LIKE '%year'")[0]["id"]
    assert year_old in digest.item_ids  # ... and recorded, so it never comes back


def test_an_item_shows_its_own_few_tags_most_specific_first(store: Store, tagger: Tagger) -> None:
    save(
        store,
        tagger,
        "wire",
        "https://w.test/1",
        "US adds 23 Chinese firms to the Entity List",
        ENTITY,
        NOW - timedelta(hours=2),
    )
    save(
        store,
        tagger,
        "other",
        "https://o.test/1",
        "US adds 23 Chinese firms to the Entity List",
        ENTITY + " China's Ministry of Commerce (MOFCOM) said it firmly opposes the move.",
        NOW - timedelta(hours=1),
    )
    [item] = digest_of(store).stories
    assert "agency:mofcom" not in item.tags  # the other copy's tag, not this one's
    assert 1 <= len(item.tags) <= 4
    assert item.tags.index("company:smic") < item.tags.index("policy:entity-list")


def test_date_only_items_show_the_day_without_midnight(store: Store, tagger: Tagger) -> None:
    day = datetime(2026, 12, 5, tzinfo=UTC)  # a publication date, no time
    save(store, tagger, "fr", "https://fr.test/1", "Additions to the Entity List", ENTITY, day)
    shanghai = Subscriber(email="li@example.org", timezone="Asia/Shanghai")
    text = render_text(digest_of(store, shanghai), SETTINGS)
    assert "05 Dec 2026" in text
    assert "00:00" not in text.split("TODAY")[1].split("--")[0]
    assert "08:00" not in text.split("TODAY")[1].split("--")[0]


def test_also_matched_leaves_out_what_is_not_about_export_controls(
    store: Store, tagger: Tagger
) -> None:
    save(
        store, tagger, "wire", "https://w.test/el", "US adds firms to the Entity List", ENTITY, NOW
    )
    save(
        store,
        tagger,
        "gadgets",
        "https://g.test/phone",
        "Review: a Nvidia-powered gaming phone with a bright screen",
        "The phone has a bright screen and a battery that lasts two days. Nvidia makes its GPU.",
        NOW,
    )
    digest = digest_of(store, Subscriber(email="nv@example.org", filter="nvidia OR entity list"))
    shown = [i.title for i in [*digest.stories, *digest.other]]
    assert not any("phone" in t for t in shown)
    assert digest.overflow  # counted ("and 1 more"), recorded, not listed


def test_an_official_source_and_its_title(store: Store, tagger: Tagger) -> None:
    store.ensure_sources(
        [
            Source("policy-desk", "page", "https://desk.test/", official=True, title="Policy Desk"),
            Source("wire", "rss", "https://w.test/f", title="Harbor Wire"),
        ],
        NOW,
    )
    save(
        store, tagger, "policy-desk", "https://desk.test/r", "Final rule: Entity List", ENTITY, NOW
    )
    save(store, tagger, "wire", "https://w.test/h20", "Nvidia to resume H20 sales", H20, NOW)
    digest = digest_of(store)
    assert [i.title for i in digest.official] == ["Final rule: Entity List"]
    assert digest.official[0].source == "Policy Desk"
    text = render_text(digest, SETTINGS)
    assert "Harbor Wire" in text
    assert "1 official action" in text


def test_chinese_items_carry_their_script_in_the_html(store: Store, tagger: Tagger) -> None:
    save(
        store,
        tagger,
        "tw",
        "https://tw.test/1",
        "美國將23家中國企業列入實體清單",
        "美國商務部將23家中國企業列入實體清單，理由是支援中芯國際的先進晶片製造。出口商須申請許可證。",
        NOW,
        lang="zh-Hant",
    )
    html = render_html(digest_of(store), SETTINGS)
    assert 'lang="zh-Hant"' in html
    assert "Noto Sans CJK TC" in html


def test_movement_and_chinese_extracts_keep_whole_names_in_80_columns(
    store: Store, tagger: Tagger
) -> None:
    for i in range(3):
        save(
            store,
            tagger,
            f"s{i}",
            f"https://s{i}.test/1",
            f"Commerce adds firms to the Entity List, part {i}",
            ENTITY + f" Filing {i}.",
            NOW - timedelta(hours=i),
        )
    text = render_text(digest_of(store), SETTINGS)
    movement = text.split("MOVEMENT AGAINST THE PREVIOUS 7 DAYS")[1]
    assert "BIS (US Bureau of Industry and Security)" in movement  # not cut at 28 characters
    long = [line for line in text.splitlines() if len(line) > 80 and "http" not in line]
    assert not long


@pytest.mark.parametrize("width", [20, 74])
def test_chinese_text_wraps_by_terminal_cells(width: int) -> None:
    text = (
        "根据《中华人民共和国出口管制法》有关规定，为维护国家安全和利益，"
        "决定将7家美国无人机企业列入出口管制管控名单。"
    )
    lines = wrap_cells(text, width)
    assert "".join(lines) == text
    assert all(sum(2 if ord(c) > 0x2E80 else 1 for c in line) <= width for line in lines)
