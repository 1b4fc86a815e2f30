"""The ``tracker`` command line (``tracker.cli:cli``).

Each module adds its commands to the group; the group imports a module when one of its commands
is asked for (``COMMAND_MODULES`` in :mod:`tracker.cli.base`).
"""

from tracker.cli.base import cli

__all__ = ["cli"]
