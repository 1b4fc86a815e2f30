"""The vocabulary file: user extensions, and bad entries refused with file, line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.errors import ConfigError
from tracker.tagging.tagger import Tagger
from tracker.tagging.vocabulary import (
    KINDS,
    compute_spellings,
    load_vocabulary,
    packaged_speller,
    packaged_vocabulary_text,
    parse_vocabulary,
)


def test_packaged_vocabulary_is_valid_and_covers_every_kind() -> None:
    entries = parse_vocabulary(packaged_vocabulary_text(), "vocabulary.toml")
    assert {e.kind for e in entries} == set(KINDS)
    assert len(entries) > 80


def test_user_file_adds_entries_and_aliases(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        '[[company]]\nslug = "nvidia"\naliases = ["老黄家"]\n\n'
        '[[company]]\nslug = "unisoc"\nname = "UNISOC"\naliases = ["UNISOC", "紫光展锐"]\n',
        encoding="utf-8",
    )
    tagger = Tagger(load_vocabulary(extra))
    found = {h.tag_id for h in tagger.tag("", "老黄家与紫光展锐")}
    assert found == {"company:nvidia", "company:unisoc"}
    nvidia = next(e for e in tagger.entries if e.tag_id == "company:nvidia")
    assert nvidia.name == "Nvidia"
    assert "英伟达" in nvidia.aliases


@pytest.mark.parametrize(
    ("text", "reason", "line"),
    [
        ('[[company]]\nslug = "x"\naliases = ["ok", " "]\n', "empty alias", 2),
        ('[[gadget]]\nslug = "x"\naliases = ["a"]\n', "unknown kind 'gadget'", 1),
        (
            '[[chip]]\nslug = "x"\naliases = ["a"]\n\n[[chip]]\nslug = "x"\naliases = ["b"]\n',
            "duplicate slug",
            6,
        ),
        ('[[chip]]\nslug = "Bad Slug"\naliases = ["a"]\n', "slug", 2),
        ('[[chip]]\nslug = "x"\nalias = ["a"]\n', "unknown key 'alias'", 2),
    ],
)
def test_bad_entries_are_refused_with_file_line_and_reason(
    tmp_path: Path, text: str, reason: str, line: int
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_vocabulary(bad)
    assert f"{bad}:{line}:" in str(info.value)
    assert reason in str(info.value)


def test_missing_user_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_vocabulary(tmp_path / "none.toml")


def test_precomputed_spellings_match_the_vocabulary() -> None:
    """Edit data/vocabulary.toml, then run `python -m tracker.tagging.vocabulary` to refresh the table."""
    entries = parse_vocabulary(packaged_vocabulary_text(), "vocabulary.toml")
    expected = compute_spellings(entries)
    speller = packaged_speller()
    assert speller.terms == expected["terms"], "run: python -m tracker.tagging.vocabulary"
    assert speller.patterns == expected["patterns"], "run: python -m tracker.tagging.vocabulary"


def test_building_the_packaged_tagger_needs_no_conversion_dictionary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tracker.textnorm

    def refuse(*args: object) -> object:
        raise AssertionError("OpenCC s2* dictionaries loaded for the packaged vocabulary")

    monkeypatch.setattr(tracker.textnorm, "spellings", refuse)
    monkeypatch.setattr(tracker.textnorm, "script_variants", refuse)
    assert Tagger(load_vocabulary()).tag("", "輝達H20晶片")


def test_user_terms_missing_from_the_table_are_spelled_at_run_time(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        '[[company]]\nslug = "unisoc"\nname = "UNISOC"\naliases = ["紫光展锐"]\n', encoding="utf-8"
    )
    tagger = Tagger(load_vocabulary(extra))
    assert {h.tag_id for h in tagger.tag("", "紫光展銳發布新晶片")} == {
        "company:unisoc"
    }  # traditional text
