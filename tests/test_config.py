"""tracker.toml: defaults, and errors that name the file, the source and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config.load import default_config_text, load_config
from tracker.config.paths import default_config_path, default_db_path
from tracker.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_init_template_parses_with_real_sources_of_every_kind(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, default_config_text()))
    assert len(config.sources) >= 10
    kinds = {s.kind: s.name for s in config.sources}
    assert {"rss", "federal-register", "public-inspection", "google-news"} <= kinds.keys()
    names = {s.name for s in config.sources}
    assert {"fr-bis", "fr-public-inspection", "gnews-zh-hant", "ithome", "bbc-zh-trad"} <= names
    assert (
        'kind = "page"' in default_config_text()
    )  # pages ship commented: selectors need a live check


def test_tracker_home_moves_config_and_database(tracker_home: Path) -> None:
    assert default_config_path() == tracker_home / "tracker.toml"
    assert default_db_path() == tracker_home / "tracker.db"


def test_missing_file_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tracker init"):
        load_config(tmp_path / "nope.toml")


def test_unknown_source_key_names_file_source_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nname = "x"\nkind = "rss"\nurl = "https://a.test/f"\nfetch_article = true\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "'x'" in message
    assert "'fetch_article'" in message
    assert "fetch_articles" in message  # the keys it does take


def test_unknown_kind_lists_the_supported_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "x"\nkind = "atom"\nurl = "https://a.test/f"\n')
    with pytest.raises(ConfigError, match=r"unknown kind 'atom'.*rss, page"):
        load_config(path)


def test_page_source_needs_a_selector(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "p"\nkind = "page"\nurl = "https://a.test/"\n')
    with pytest.raises(ConfigError, match="link_selector"):
        load_config(path)


def test_wrong_types_and_bad_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="wrong type"):
        load_config(
            write(
                tmp_path,
                '[[sources]]\nname = "x"\nkind = "rss"\nurl = "https://a"\nenabled = "yes"\n',
            )
        )
    with pytest.raises(ConfigError, match="http"):
        load_config(write(tmp_path, '[[sources]]\nname = "x"\nkind = "rss"\nurl = "ftp://a"\n'))
    with pytest.raises(ConfigError, match=r"\[settings\] min_interval"):
        load_config(write(tmp_path, '[settings]\nmin_interval = "fast"\n'))


def test_duplicate_source_names_are_refused(tmp_path: Path) -> None:
    one = '[[sources]]\nname = "x"\nkind = "rss"\nurl = "https://a.test/f"\n'
    with pytest.raises(ConfigError, match="two sources are named 'x'"):
        load_config(write(tmp_path, one + one))


def test_invalid_toml_gives_the_parser_position(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
        load_config(write(tmp_path, "[settings]\nmin_interval = \n"))


def test_source_options_are_kept(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[settings]
min_interval = 2
[[sources]]
name = "p"
kind = "page"
url = "https://a.test/"
link_selector = "a.story"
max_links = 5
min_interval = 0.5
enabled = false
""",
        )
    )
    (source,) = config.sources
    assert source.options == {"link_selector": "a.story", "max_links": 5}
    assert source.min_interval == 0.5
    assert source.enabled is False
    assert config.settings.min_interval == 2
