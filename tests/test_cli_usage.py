"""Usage reads the same in every command: bad input exits 2 with one line, global options work
after the command too, and a language outside the documented set is refused."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from tracker.cli import cli
from tracker.cli.base import COMMAND_MODULES, hoist_global_options
from tracker.models import Article
from tracker.store import Store


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    from datetime import UTC, datetime

    path = tmp_path / "tracker.db"
    store = Store.open(path)
    article = Article(
        url="https://news.test/1",
        source="wire",
        title="Nvidia licence news",
        text="Nvidia.",
        lang="en",
    )
    store.save_batch("wire", [(article, [])], now=datetime(2026, 12, 1, tzinfo=UTC))
    store.close()
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["search", "x", "--since", "yesterday"],
        ["search", "--tag", "company:nvida"],
        ["search", "x", "--limit", "0"],
        ["search", "x", "--lang", "fr"],
        ["search", "x lang:fr"],
        ["search", '"unclosed'],
        ["stories", "--since", "bogus"],
        ["tags", "--since", "bogus"],
        ["trends", "company:nvida"],
        ["trends", "company:nvidia", "--since", "bogus"],
    ],
)
def test_usage_errors_exit_2_with_one_line(db: Path, args: list[str]) -> None:
    result = invoke("--db", str(db), *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")


def test_an_unknown_language_names_the_ones_there_are(db: Path) -> None:
    result = invoke("--db", str(db), "search", "nvidia", "--lang", "fr")
    assert "use one of en, zh, zh-Hans, zh-Hant" in result.stderr
    ok = invoke("--db", str(db), "search", "nvidia", "--lang", "EN", "-f", "json")
    assert ok.exit_code == 0
    assert "Nvidia licence news" in ok.stdout


def test_global_options_are_accepted_after_the_command(db: Path, tmp_path: Path) -> None:
    result = invoke("search", "nvidia", "--db", str(db), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "Nvidia licence news" in result.stdout
    nested = invoke("sources", "list", f"--db={db}", "-q", "-f", "json")
    assert nested.exit_code == 0, nested.output
    assert '"wire"' in nested.stdout


def test_nothing_after_a_double_dash_is_taken_for_a_global_option() -> None:
    assert hoist_global_options(["search", "--", "--db", "x"]) == ["search", "--", "--db", "x"]
    assert hoist_global_options(["-q", "fetch", "-v", "--db", "a.db"]) == [
        "-q",
        "-v",
        "--db",
        "a.db",
        "fetch",
    ]


def test_no_command_defines_an_option_named_like_a_global_one() -> None:
    """Hoisting is only safe while no command has its own --db, --config, -q or -v."""
    ctx = click.Context(cli)
    seen: list[str] = []

    def walk(command: click.Command) -> None:
        for param in command.params:
            seen.extend(param.opts)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub)

    for name in COMMAND_MODULES:
        command = cli.get_command(ctx, name)
        assert command is not None
        walk(command)
    assert not {"--db", "--config", "-q", "--quiet", "-v", "--verbose"} & set(seen)


def test_a_simplified_headline_with_a_short_summary_is_found_as_zh_hans(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    from .helpers import rss

    headline = "美方称全球使用华为昇腾芯片或违反美国出口管制"
    httpserver.expect_request("/zh.xml").respond_with_data(
        rss([{"title": headline, "link": "http://x.test/zh/1", "description": "美方称。"}]),
        content_type="application/rss+xml",
    )
    config = tmp_path / "tracker.toml"
    config.write_text(
        '[settings]\nmin_interval = 0\n\n[[sources]]\nname = "zh"\nkind = "rss"\n'
        f'lang = "zh-Hans"\nurl = "{httpserver.url_for("/zh.xml")}"\n',
        encoding="utf-8",
    )
    assert invoke("fetch").exit_code == 0
    found = invoke("search", "--lang", "zh-Hans", "-f", "json")
    assert headline in found.stdout
    assert "[]" in invoke("search", "--lang", "zh-Hant", "-f", "json").stdout
