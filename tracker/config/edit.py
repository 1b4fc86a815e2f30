"""Edit tracker.toml from commands (``sources add/remove/enable/disable``, OPML import) with
tomlkit, which keeps the user's comments and layout. Every edit is checked by the same parser
that reads the file, then written atomically: a refused edit leaves the file as it was."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from tracker.config.load import Config, parse_config
from tracker.errors import ConfigError

NEW_FILE_HEADER = (
    "# tracker.toml: see README.md, 'tracker.toml reference'. 'tracker init' shows every option.\n"
)


def _load(path: Path) -> tomlkit.TOMLDocument:
    # No file yet: start one holding only what is asked for ('tracker init' writes the defaults).
    text = path.read_text("utf-8") if path.exists() else NEW_FILE_HEADER
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _sources(doc: tomlkit.TOMLDocument) -> AoT:
    if "sources" not in doc or not doc["sources"]:  # absent, or an empty array left by a remove
        doc.pop("sources", None)
        doc.append("sources", tomlkit.aot())
    sources = doc["sources"]
    if not isinstance(sources, AoT):
        raise ConfigError("'sources' must be written as [[sources]] tables")
    return sources


def _save(path: Path, doc: tomlkit.TOMLDocument) -> Config:
    text = tomlkit.dumps(doc)
    config = parse_config(tomlkit.parse(text).unwrap(), path)  # refuse before writing anything
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tracker.toml.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return config


def _find(sources: AoT, name: str, path: Path) -> Table:
    for table in sources:
        if table.get("name") == name:
            return table  # type: ignore[no-any-return]  # tomlkit's AoT items are Tables
    raise ConfigError(f"no source named {name!r} in {path}; see 'tracker sources list'")


def add_sources(path: Path, new: list[dict[str, Any]]) -> Config:
    """Append sources (each a dict of tracker.toml keys); names must be new.

    Raises:
        ConfigError: a name is taken or an entry is invalid; nothing is written.
    """
    doc = _load(path)
    sources = _sources(doc)
    taken = {t.get("name") for t in sources}
    for entry in new:
        if entry["name"] in taken:
            raise ConfigError(f"a source named {entry['name']!r} already exists in {path}")
        taken.add(entry["name"])
        table = tomlkit.table()
        for key, value in entry.items():
            if value is not None:
                table.add(key, value)
        sources.append(table)
    return _save(path, doc)


def remove_source(path: Path, name: str) -> Config:
    doc = _load(path)
    sources = _sources(doc)
    table = _find(sources, name, path)
    sources.remove(table)
    if not sources:
        del doc["sources"]  # an empty [[sources]] list would be written as `sources = []`
    return _save(path, doc)


def set_enabled(path: Path, name: str, enabled: bool) -> Config:
    doc = _load(path)
    table = _find(_sources(doc), name, path)
    table["enabled"] = enabled
    return _save(path, doc)
