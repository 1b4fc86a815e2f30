"""The first tagger: aliases across scripts, token boundaries, longest match, counts, title."""

from __future__ import annotations

import pytest

from tracker.tagging import Tagger
from tracker.vocabulary import Entry


def tags(tagger: Tagger, text: str, title: str = "") -> set[str]:
    return {h.tag_id for h in tagger.tag(title, text)}


@pytest.mark.parametrize(
    "alias", ["Nvidia", "NVIDIA", "英伟达", "英偉達", "輝達", "辉达", "ＮＶＩＤＩＡ"]
)
def test_nvidia_in_every_script(tagger: Tagger, alias: str) -> None:
    assert "company:nvidia" in tags(tagger, f"{alias} said on Tuesday")


def test_h20_is_not_found_inside_h200_or_h20a(tagger: Tagger) -> None:
    assert tags(tagger, "The H200 and the H20A") == {"chip:h200"}


def test_model_numbers_next_to_chinese_are_tokens(tagger: Tagger) -> None:
    assert {"chip:h20", "company:nvidia"} <= tags(tagger, "英伟达H20芯片")


def test_amd_is_not_found_inside_words(tagger: Tagger) -> None:
    assert "company:amd" not in tags(tagger, "Amdahl's law and the AMDX format")


def test_longest_alias_wins_where_aliases_overlap(tagger: Tagger) -> None:
    found = tags(tagger, "美超微股价大涨")
    assert "company:supermicro" in found


def test_cased_alias_needs_its_letter_case(tagger: Tagger) -> None:
    assert "company:tokyo-electron" in tags(tagger, "TEL shares rose")
    assert "company:tokyo-electron" not in tags(tagger, "call the tel number")


def test_counts_and_title_are_recorded(tagger: Tagger) -> None:
    hits = {
        h.tag_id: h for h in tagger.tag("Nvidia wins licence", "Nvidia said. NVIDIA will ship.")
    }
    assert hits["company:nvidia"].count == 3
    assert hits["company:nvidia"].in_title
    hits = {h.tag_id: h for h in tagger.tag("A phone review", "Its Intel modem is fine.")}
    assert not hits["company:intel"].in_title


def test_stop_phrase_claims_its_span() -> None:
    tagger = Tagger([Entry("company", "lam-research", "Lam", ("Lam",), stop=("Lam Ching-ying",))])
    assert not tagger.tag("", "the actor Lam Ching-ying")
    assert tagger.tag("", "Lam said")


def test_empty_text_and_empty_vocabulary(tagger: Tagger) -> None:
    assert tagger.tag("", "") == []
    assert Tagger([]).tag("t", "Nvidia") == []
