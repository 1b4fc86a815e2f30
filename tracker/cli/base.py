"""The ``tracker`` group, its global options and the state every command shares.

The CLI is a package rather than the one ``cli.py`` of the style guide because it outgrew 400 lines;
it is still the only place that imports click. Exit codes: 0 ok; 1 error or a source failed;
2 bad usage or a bad config file.

Start-up: ``tracker --help`` imports every command module, so they import stages (and their
libraries: trafilatura, feedparser, bs4, numpy, rich) inside the commands that use them, never at
the top. ``tests/test_architecture.py`` checks it.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import re
import signal
import sqlite3
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker import __version__
from tracker.errors import ConfigError, QueryError, TrackerError

if TYPE_CHECKING:
    from tracker.config.load import Config
    from tracker.store import Store
    from tracker.tagging.tagger import Tagger

log = logging.getLogger("tracker")


class ConfigProblem(click.ClickException):
    exit_code = 2


class UsageProblem(click.ClickException):
    """Bad input on the command line (a query, time, tag or language): exit 2, as click's own
    usage errors (a bad --limit), so a script tells a typo from a failure."""

    exit_code = 2


# Which module defines each command: a command's module (and the stages it imports) loads only
# when that command runs, or when --help lists them all.
COMMAND_MODULES = {
    "init": "fetching",
    "fetch": "fetching",
    "demo": "fetching",
    "search": "reading",
    "show": "reading",
    "sources": "sourcecmds",
    "stories": "storycmds",
    "tags": "tagcmds",
    "trends": "tagcmds",
    "retag": "tagcmds",
    "eval-tags": "tagcmds",
    "digest": "digestcmds",
    "lists": "recordcmds",
    "entity": "recordcmds",
    "eval-entities": "recordcmds",
    "deadlines": "deadlinecmds",
    "alerts": "alertcmds",
    "export-feeds": "reading",
    "run": "digestcmds",
    "serve": "servecmds",
}


class TrackerGroup(click.Group):
    """Loads a command's module when the command is asked for, and shows a TrackerError as one
    "Error: ..." line (set TRACKER_RAISE_ERRORS=1 for a traceback)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            # The module's decorators add its commands to this group.
            importlib.import_module(f"tracker.cli.{COMMAND_MODULES[cmd_name]}")
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (TrackerError, sqlite3.Error, OSError) as exc:
            if os.environ.get("TRACKER_RAISE_ERRORS") == "1" or isinstance(exc, BrokenPipeError):
                raise
            if isinstance(exc, ConfigError):
                raise ConfigProblem(str(exc)) from exc
            if isinstance(exc, QueryError):  # a bad query, time, tag or language: bad usage
                raise UsageProblem(str(exc)) from exc
            if isinstance(exc, sqlite3.Error):
                from tracker.store import explain_db_error

                state = ctx.obj if isinstance(ctx.obj, State) else None
                where = state.db_path if state else "database"
                raise click.ClickException(explain_db_error(where, exc)) from exc
            if isinstance(exc, OSError):
                raise click.ClickException(_os_error(exc)) from exc
            raise click.ClickException(str(exc)) from exc


GLOBAL_WITH_VALUE = ("--db", "--config")
GLOBAL_FLAGS = re.compile(r"^(-q|--quiet|-v+|--verbose)$")


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options written after the command (``tracker search x --db X``, ``tracker
    fetch -q``) in front of it, where click looks for them. Nothing after ``--`` moves, and no
    command defines an option of the same name (tests/test_cli.py checks)."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in GLOBAL_WITH_VALUE else 1  # skip the global options already in front
    if i >= len(args) or args[i] == "--":
        return args
    head, command, rest = args[:i], args[i], args[i + 1 :]
    moved: list[str] = []
    kept: list[str] = []
    j = 0
    while j < len(rest):
        arg = rest[j]
        if arg == "--":
            kept += rest[j:]
            break
        if arg in GLOBAL_WITH_VALUE and j + 1 < len(rest):
            moved += rest[j : j + 2]
            j += 2
            continue
        if arg.startswith(tuple(f"{name}=" for name in GLOBAL_WITH_VALUE)) or GLOBAL_FLAGS.match(
            arg
        ):
            moved.append(arg)
        else:
            kept.append(arg)
        j += 1
    return [*head, *moved, command, *kept]


def _os_error(exc: OSError) -> str:
    """A file-system failure in one line: what, where, and for a full disk what to do."""
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"the disk is full{where}; nothing stored was lost. Free space and run again"
    return f"{exc.strerror or exc}{where}"


def busy_timeout() -> float:
    """Seconds a write waits for another process's (``TRACKER_BUSY_TIMEOUT``, default 10)."""
    raw = os.environ.get("TRACKER_BUSY_TIMEOUT", "")
    try:
        value = float(raw) if raw else 10.0
    except ValueError:
        raise ConfigError(
            f"TRACKER_BUSY_TIMEOUT must be a number of seconds, not {raw!r}"
        ) from None
    if not 0 <= value <= 3600:
        raise ConfigError("TRACKER_BUSY_TIMEOUT must be between 0 and 3600 seconds")
    return value


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM ends a run as Ctrl-C does: sources stop between articles, batches stay stored."""
    raise KeyboardInterrupt


@dataclass
class State:
    db_path: Path
    config_path: Path
    quiet: bool

    def config(self) -> Config:
        from tracker.config.load import load_config

        return load_config(self.config_path)

    def store(self, *, readonly: bool = False) -> Store:
        """The store; ``readonly`` for commands that only read (the file must exist)."""
        from tracker.store import Store

        return Store.open(self.db_path, readonly=readonly, busy_timeout=busy_timeout())

    def tagger(self, config: Config | None = None) -> Tagger:
        from tracker.tagging.tagger import Tagger
        from tracker.tagging.vocabulary import load_vocabulary

        vocab = config.settings.vocabulary if config else None
        return Tagger(load_vocabulary(Path(vocab).expanduser() if vocab else None))


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACKER_DB",
    help="SQLite database file [env TRACKER_DB; default: your data dir]",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACKER_CONFIG",
    help="tracker.toml to use [env TRACKER_CONFIG; default: your config dir]",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors; no progress bars or summaries.")
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(
    ctx: click.Context, db: Path | None, config_path: Path | None, verbose: int, quiet: bool
) -> None:
    """Track export-control news and official documents on chips, tools and materials.

    \b
    Examples:
      tracker demo                      # offline run over a bundled sample site
      tracker init                      # write a tracker.toml with real sources
      tracker fetch                     # pull every enabled source
      tracker search "H200 licence" --tag company:nvidia --since 30d
      tracker show 1ea6fd07
      tracker stories --since 24h       # today's stories, copies grouped
      tracker digest                    # preview the daily digest
      tracker run                       # cron: fetch, then mail the digest
    """
    level = (
        logging.ERROR if quiet else [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    )
    _log_to_stderr(level)
    from tracker.config.paths import default_config_path, default_db_path

    ctx.obj = State(db or default_db_path(), config_path or default_config_path(), quiet)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_handler: logging.Handler | None = None


def _log_to_stderr(level: int) -> None:
    """Our log lines at ``level`` on this invocation's stderr; other libraries' at WARNING
    (at -vv, DEBUG). The tracker logger gets its own handler, so -v works whatever handlers
    the host process (a test runner, an embedding app) already put on the root logger."""
    global _handler
    logger = logging.getLogger("tracker")
    if _handler is not None:
        logger.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(_handler)
    logger.setLevel(level)
    logger.propagate = False
    others = logging.DEBUG if level <= logging.DEBUG else max(level, logging.WARNING)
    logging.basicConfig(level=others, format=LOG_FORMAT)


def utc_now() -> datetime:
    """The clock the commands pass to the stages."""
    return datetime.now(UTC)


def maybe_config(state: State) -> Config | None:
    """The config file's settings, or None when there is no config file."""
    return state.config() if state.config_path.exists() else None


def stored_tags(store: Store) -> set[str]:
    """Every tag the store knows, to refuse a misspelt ``--tag``."""
    from tracker.store.tags import tag_ids

    return tag_ids(store)
