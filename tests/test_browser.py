"""The web reader in a real browser, as a colleague would use it: headless Chromium (Debian's,
which `.ci/run` installs) driven by Playwright, over `tracker serve` on loopback.

Screenshots of each page at a phone's width (390 px) and a desktop's (1280 px) are kept in
``test-artefacts/browser/`` (or $TRACKER_TEST_ARTEFACTS). Skipped, with the reason, where
Playwright or a Chromium binary is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import icalendar
import pytest
import requests

from tests.reader_store import HOSTILE, RULE_TITLE, build_reader_store, serving
from tracker.tagging.tagger import Tagger

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary (apt-get install chromium; .ci/run does)"
)
ARTEFACTS = Path(
    os.environ.get("TRACKER_TEST_ARTEFACTS")
    or Path(__file__).parent.parent / "test-artefacts" / "browser"
)
WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, tagger: Tagger) -> Iterator[str]:
    db = build_reader_store(tmp_path_factory.mktemp("browser") / "demo.db", tagger)
    with serving(db, tagger) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"Chromium would not start under Playwright: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


class Tab:
    """A page that records every dialog (alert, confirm) and every script error it meets."""

    def __init__(self, browser: Any, width: int) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        self.page = self.context.new_page()
        self.width = width
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def shoot(self, name: str) -> None:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTEFACTS / f"{name}-{self.width}.png"), full_page=True)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} at {self.width} px runs {overflow} px off the right edge"


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Tab]:
    opened = Tab(browser, request.param)
    yield opened
    opened.context.close()


def search_by_keyboard(tab: Tab, base: str, query: str) -> None:
    """Reach the search box with Tab from the top of the page, type, press Enter."""
    tab.page.goto(base + "/")
    tab.page.keyboard.press("Tab")  # the "tracker" home link
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("document.activeElement.id") == "q"
    tab.page.keyboard.type(query)
    with tab.page.expect_navigation():
        tab.page.keyboard.press("Enter")


def titles(tab: Tab) -> list[tuple[str, str]]:
    links = tab.page.locator("ol.hits > li")
    return [
        (str(li.get_attribute("lang")), li.locator("a.title").inner_text())
        for li in links.all()
        if li.locator("a.title").count()
    ]


def test_a_chinese_search_typed_at_the_keyboard_finds_both_languages(base: str, tab: Tab) -> None:
    search_by_keyboard(tab, base, "英伟达")
    assert "q=%E8%8B%B1%E4%BC%9F%E8%BE%BE" in tab.page.url  # shareable: the query is in it
    found = titles(tab)
    assert {lang for lang, _ in found} >= {"zh", "en"}
    assert tab.page.locator("mark").count() >= 1  # the matched words are highlighted
    tab.shoot("search-zh")


def test_entity_list_search_then_a_story_then_an_entity(base: str, tab: Tab) -> None:
    search_by_keyboard(tab, base, "Entity List")
    assert titles(tab)
    tab.page.locator("ol.hits > li", has_text="more in this story").first.locator("a.title").click()
    assert tab.page.locator("section.story h2").inner_text() == "In this story"
    tab.shoot("article")
    tab.page.locator("section.story li a").first.click()  # another member of the story
    assert tab.page.url.startswith(base + "/article/")
    tab.page.goto(base + "/lists")
    tab.page.locator("ol.hits a.title", has_text="Semiconductor Manufacturing").first.click()
    assert tab.page.url == base + "/entity/smic"
    assert "Entity List (EL)" in tab.page.locator("main").inner_text()
    tab.shoot("entity")


def test_a_searchs_atom_link_is_a_feed_of_the_same_results(base: str, tab: Tab) -> None:
    tab.page.goto(base + "/search?q=H20")
    href = tab.page.locator("a", has_text="Atom feed").get_attribute("href")
    assert href == tab.page.locator("link[rel=alternate]").get_attribute("href")
    feed = feedparser.parse(requests.get(href, timeout=10).content)
    assert not feed.bozo
    assert [e.title for e in feed.entries] == [t for _, t in titles(tab)]


def test_the_deadlines_calendar_downloads_and_parses(base: str, tab: Tab, tmp_path: Path) -> None:
    tab.page.goto(base + "/deadlines")
    assert RULE_TITLE in tab.page.locator("main").inner_text()
    tab.shoot("deadlines")
    with tab.page.expect_download() as wait:
        tab.page.locator("a", has_text="Calendar (.ics)").click()
    saved = tmp_path / "deadlines.ics"
    wait.value.save_as(saved)
    events = icalendar.Calendar.from_ical(saved.read_bytes()).walk("VEVENT")
    assert [str(e["summary"]).split(":")[0] for e in events] == ["Effective", "Comments close"]


def test_stored_script_is_shown_as_text_and_never_runs(base: str, tab: Tab) -> None:
    tab.page.goto(base + "/search?q=H20")
    hostile = tab.page.locator("a.title", has_text="<script>")
    assert HOSTILE in hostile.inner_text()
    hostile.click()
    assert HOSTILE in tab.page.locator("h1").inner_text()
    assert tab.page.evaluate("document.querySelectorAll('script, img[onerror]').length") == 0
    assert tab.dialogs == []
    assert tab.errors == []


@pytest.mark.parametrize("path", ["/stories?since=30d", "/trends?since=30d", "/digest"])
def test_the_day_pages_draw_within_the_screen(base: str, tab: Tab, path: str) -> None:
    tab.page.goto(base + path)
    assert tab.page.locator("body").inner_text().strip()
    if path.startswith("/trends"):
        box = tab.page.locator("svg.chart").bounding_box()
        assert box is not None
        assert 0 < box["width"] <= tab.width
    tab.shoot(path.strip("/").split("?")[0])
    assert tab.errors == []
