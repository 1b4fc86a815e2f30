"""The README stays true: it opens with the two commands and documents every command."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tracker.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # loads each command's module, as --help does
        command = group.get_command(ctx, name)
        assert command is not None, f"{prefix}{name} is listed but cannot be loaded"
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            out += commands(command, full + " ")
        else:
            out.append((full, command))
    return out


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    assert first_block.group(1).strip().splitlines() == [
        "pip install -e . && tracker demo",
        "pip install -e '.[test]' && pytest",
    ]
    assert README.index("```sh") < README.index("## ")


def test_ci_runs_the_readme_test_command() -> None:
    script = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "-e '.[test]'" in script
    assert "pytest" in script


@pytest.mark.parametrize(("name", "command"), commands(cli))
def test_every_command_has_help_with_an_example_and_is_in_the_readme(
    name: str, command: click.Command
) -> None:
    assert command.help, f"{name} needs a docstring"
    assert "Example" in command.help, f"{name}'s help needs an example"
    assert f"tracker {name}" in README, f"README does not document 'tracker {name}'"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.opts[0] in README or param.opts[-1] in README, (
                f"README lacks {name} {param.opts[0]}"
            )
