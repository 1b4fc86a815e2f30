"""Normalisation: pinyin notes stripped, scripts folded, language told apart, index form."""

from __future__ import annotations

import pytest

from tracker.textnorm import clean_text, detect_lang, fold, index_form, strip_pinyin, tail_chars


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("英伟达(dá)发布H20", "英伟达发布H20"),
        ("镓（jiā）和锗(zhě)", "镓和锗"),
        ("芯片(xīn piàn)出口", "芯片出口"),
        ("英伟达(ying1 wei3 da2)", "英伟达"),
    ],
)
def test_inline_pinyin_is_stripped(raw: str, clean: str) -> None:
    assert strip_pinyin(raw) == clean


@pytest.mark.parametrize(
    "keep", ["超威(AMD)发布", "英伟达(nvidia)", "芯片(h20)出口", "Nvidia (dá) in English"]
)
def test_brackets_that_are_not_pinyin_stay(keep: str) -> None:
    assert strip_pinyin(keep) == keep


def test_clean_text_collapses_space_and_blank_lines() -> None:
    assert clean_text("a  b\u3000c\n\n\n d ") == "a b c\nd"


def test_fold_maps_traditional_full_width_and_case() -> None:
    assert fold("輝達Ｈ２０晶片 NVIDIA") == "英伟达h20芯片 nvidia"
    assert fold("黃仁勳") == fold("黄仁勋")


@pytest.mark.parametrize(
    ("taiwan", "mainland"), [("晶片", "芯片"), ("奈米", "纳米"), ("高頻寬記憶體", "高带宽内存")]
)
def test_fold_maps_taiwan_usage_to_mainland_usage(taiwan: str, mainland: str) -> None:
    assert fold(taiwan) == fold(mainland)


def test_fold_leaves_mainland_text_alone() -> None:
    text = "美国商务部将23家中国企业列入实体清单 英伟达H20芯片、内存和服务器"
    assert fold(text) == text.lower()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("美國商務部將23家中國企業列入實體清單，輝達晶片受到管制。", "zh-Hant"),
        ("美国商务部将23家中国企业列入实体清单，英伟达芯片受到管制。", "zh-Hans"),
        ("The Commerce Department added 23 firms to the Entity List.", "en"),
    ],
)
def test_language_and_script_are_detected(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_a_non_chinese_hint_is_kept_for_latin_text() -> None:
    assert detect_lang("Die Bundesregierung hat die Exportkontrollen verschärft.", "de-DE") == "de"


def test_index_form_splits_han_runs_into_bigrams_and_frees_model_numbers() -> None:
    assert index_form("英伟达H20芯片").split() == ["英伟", "伟达", "h20", "芯片"]
    assert tail_chars("中国镓和锗, 砷化镓") == "锗 镓"
    assert index_form("镓").split() == ["镓"]


HEADLINE = "美方称全球使用华为昇腾芯片或违反美国出口管制"  # 昇 is shared, yet t2s turns it into 升


@pytest.mark.parametrize("hint", [None, "zh-Hans", "zh-Hant"])
def test_a_short_simplified_headline_is_simplified_whatever_the_hint(hint: str | None) -> None:
    assert detect_lang(HEADLINE + "\n美方称。", hint) == "zh-Hans"


@pytest.mark.parametrize(("hint", "lang"), [("zh-Hans", "zh-Hans"), ("zh-Hant", "zh-Hant")])
def test_the_source_hint_decides_text_both_scripts_write_alike(hint: str, lang: str) -> None:
    assert detect_lang("出口管制 晶片 升級", hint) == lang


def test_a_traditional_headline_stays_traditional_under_a_simplified_hint() -> None:
    assert detect_lang("美方稱全球使用華為昇騰晶片或違反美國出口管制", "zh-Hans") == "zh-Hant"
