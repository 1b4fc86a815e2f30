"""The labelled tagging set is kept passing; eval-tags reports and fails as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli
from tracker.errors import ConfigError
from tracker.tagging.evaluate import evaluate, load_cases
from tracker.tagging.tagger import Tagger

LABELLED = Path(__file__).parent / "data" / "tagging"


def test_labelled_set_is_large_and_in_three_scripts() -> None:
    cases = load_cases(LABELLED)
    assert len(cases) >= 40
    ids = [c.id for c in cases]
    for prefix in ("en-", "hans-", "hant-"):
        assert sum(i.startswith(prefix) for i in ids) >= len(cases) // 4


def test_labelled_set_reaches_f1_097_with_no_trap_tag(tagger: Tagger) -> None:
    report = evaluate(tagger, load_cases(LABELLED))
    assert report.traps == []
    assert report.overall.f1 >= 0.97, (report.misses, report.false_tags)
    for kind, score in report.by_kind.items():
        assert score.f1 >= 0.9, kind


def test_relevance_is_right_on_most_cases(tagger: Tagger) -> None:
    report = evaluate(tagger, load_cases(LABELLED))
    assert report.relevance_right / report.relevance_cases >= 0.9, report.relevance_wrong


def test_scores_count_misses_false_tags_and_traps(tmp_path: Path, tagger: Tagger) -> None:
    (tmp_path / "c.toml").write_text(
        '[[case]]\nid = "a"\ntext = "Nvidia and the H200"\ntags = ["company:nvidia", "chip:h20"]\n'
        'traps = ["chip:h200"]\n',
        encoding="utf-8",
    )
    report = evaluate(tagger, load_cases(tmp_path))
    assert (report.overall.tp, report.overall.fp, report.overall.fn) == (1, 1, 1)
    assert report.misses == [("a", "chip:h20")]
    assert report.traps == [("a", "chip:h200")]
    assert report.overall.f1 == pytest.approx(0.5)


def test_bad_case_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \*\.toml"):
        load_cases(tmp_path)
    (tmp_path / "c.toml").write_text('[[case]]\nid = "a"\ntext = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="needs id, text and tags"):
        load_cases(tmp_path)


def test_eval_tags_command_prints_scores_and_fails_on_traps(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(cli, ["eval-tags", str(LABELLED), "--min-f1", "0.97"])
    assert good.exit_code == 0, good.output
    assert "overall" in good.stdout
    assert "precision" in good.stdout
    (tmp_path / "c.toml").write_text(
        '[[case]]\nid = "trap"\ntext = "The H200"\ntags = []\ntraps = ["chip:h200"]\n',
        encoding="utf-8",
    )
    bad = runner.invoke(cli, ["eval-tags", str(tmp_path)])
    assert bad.exit_code == 1
    assert "TRAP  trap  chip:h200" in bad.stdout


def test_eval_tags_prints_expected_and_actual_relevance(tmp_path: Path) -> None:
    (tmp_path / "cases.toml").write_text(
        '[[case]]\nid = "phone"\ntitle = "A phone with a bright screen"\n'
        'text = "The battery lasts two days."\ntags = []\nrelevant = true\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["eval-tags", str(tmp_path)])
    assert "phone  expected relevant (>= 0.5), got 0.00" in result.stdout
