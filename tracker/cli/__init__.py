"""The ``tracker`` command line (``tracker.cli:cli``); each module adds its commands to the group."""

from tracker.cli import digestcmds, fetching, reading, sourcecmds, storycmds, tagcmds  # noqa: F401  (registers commands)
from tracker.cli.base import cli

__all__ = ["cli"]
