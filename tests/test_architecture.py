"""The shape of the code, as docs/architecture.md draws it: no import circles, stages import only
the layers below them, SQL only in tracker/store/, and a command line that starts without loading
the pipeline's libraries."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import click

from tracker.cli import cli
from tracker.cli.base import COMMAND_MODULES
from tracker.store import Store

ROOT = Path(__file__).parent.parent / "tracker"
LEAVES = {"errors", "models", "urls", "textnorm"}
# Each package and what it may import (besides itself and the leaves). Read top to bottom, the
# store knows no stage, no stage knows the CLI, and nothing downstream of the fetch imports it.
ALLOWED = {
    "store": set(),
    "tagging": {"store"},
    "search": {"record", "store", "tagging"},
    "record": {"store", "tagging"},
    "sources": {"record", "store"},
    "config": {"sources", "search", "tagging"},
    "stories": {"config", "store", "tagging"},
    "digest": {"config", "record", "search", "store", "stories", "tagging"},
    "alerts": {"config", "digest", "record", "search", "store"},
    "ingest": {"config", "record", "sources", "store", "stories", "tagging"},
    "demo": {"config"},
    "web": {"config", "digest", "record", "search", "store", "stories", "tagging"},
    "cli": {
        "alerts",
        "config",
        "record",
        "demo",
        "digest",
        "ingest",
        "search",
        "sources",
        "store",
        "stories",
        "tagging",
        "web",
    },
}
HEAVY = (
    "trafilatura",
    "feedparser",
    "bs4",
    "numpy",
    "requests",
    "sqlite_utils",
    "jinja2",
    "starlette",
    "uvicorn",
)


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    return name.removesuffix(".__init__")


def imports(path: Path) -> list[str]:
    """Every tracker module ``path`` imports, at the top or inside a function; not those under
    ``if TYPE_CHECKING`` (types only, never run)."""
    found: list[str] = []

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.module and node.module.split(".")[0] == "tracker":
                found.append(node.module)

        def visit_Import(self, node: ast.Import) -> None:
            found.extend(a.name for a in node.names if a.name.split(".")[0] == "tracker")

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in LEAVES or parts[1] == "__main__":
        return "leaf" if len(parts) > 1 and parts[1] in LEAVES else parts[-1]
    if parts[1] == "ingest" and len(parts) > 2 and parts[2] == "sources":
        return "sources"
    return parts[1]


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    found = {name: imports(path) for name, path in modules.items()}
    edges: dict[str, set[str]] = defaultdict(set)
    for name, targets in found.items():
        for target in targets:
            parts = target.split(".")
            # Importing a.b.c runs a/__init__ and a/b/__init__ first: a dependency when they
            # import something. One's own packages are not dependencies.
            for i in range(2, len(parts) + 1):
                dep = ".".join(parts[:i])
                if dep not in modules or dep == name or name.startswith(dep + "."):
                    continue
                if dep == target or found[dep]:
                    edges[name].add(dep)
    return edges


def test_the_imports_between_modules_form_no_circle() -> None:
    edges = graph()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import circle: " + " -> ".join([*path[path.index(node) :], node]))
        if node in done:
            return
        for nxt in sorted(edges.get(node, ())):
            visit(nxt, [*path, node])
        done.add(node)

    for start in sorted(edges):
        visit(start, [])
    assert len(done) > 60  # every module was walked


def test_each_stage_imports_only_the_layers_below_it() -> None:
    wrong = []
    for source, targets in graph().items():
        here = package_of(source)
        for target in targets:
            there = package_of(target)
            if here == there or there == "leaf" or here in ("tracker", "__main__"):
                continue
            if here == "leaf":
                wrong.append(f"leaf module {source} imports {target}")
            elif there not in ALLOWED.get(here, set()):
                wrong.append(f"{source} ({here}) imports {target} ({there})")
    assert not wrong, "\n".join(sorted(wrong))


def test_only_the_store_runs_sql() -> None:
    handle = re.compile(r"\.db\.|\.conn\b|\.execute(many)?\(|sqlite3\.connect|sqlite_utils")
    found = [
        f"{path.relative_to(ROOT.parent)}:{n}: {line.strip()}"
        for path in ROOT.rglob("*.py")
        if "store" not in path.relative_to(ROOT).parts[:1]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if handle.search(line) and not line.lstrip().startswith("#") and "tracker.db." not in line
    ]
    assert not found, "\n".join(found)


def test_the_moment_expression_is_written_once_outside_the_migrations() -> None:
    where = [
        str(path.relative_to(ROOT.parent))
        for path in ROOT.rglob("*.py")
        if "COALESCE(published_at, first_seen_at)" in path.read_text(encoding="utf-8")
    ]
    assert sorted(where) == ["tracker/store/connection.py", "tracker/store/migrations.py"]


def loaded_after(code: str, tmp_path: Path) -> list[str]:
    """Which heavy libraries a fresh interpreter holds after running ``code``."""
    probe = (
        f"{code}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = {"TRACKER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_none_of_the_pipeline_libraries(tmp_path: Path) -> None:
    assert loaded_after("import tracker.cli", tmp_path) == []


def test_help_and_search_load_none_of_the_pipeline_libraries(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    Store.open(db).close()
    run = "from tracker.cli import cli\ntry:\n    cli({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass"
    assert loaded_after(run.format(args=["--help"]), tmp_path) == []
    search = ["--db", str(db), "search", "nvidia", "--format", "json"]
    assert loaded_after(run.format(args=search), tmp_path) == []


def test_every_command_is_listed_with_the_module_that_defines_it() -> None:
    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        assert cli.get_command(ctx, name) is not None, name
    assert set(cli.commands) == set(COMMAND_MODULES)
