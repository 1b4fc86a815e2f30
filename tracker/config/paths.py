"""Where the config file and the database live by default (per user, per OS)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "tracker"


def tracker_home() -> Path | None:
    """``$TRACKER_HOME`` when set: it moves both the config and the data (tests use it)."""
    home = os.environ.get("TRACKER_HOME")
    return Path(home) if home else None


def default_config_path() -> Path:
    home = tracker_home()
    return (home or platformdirs.user_config_path(APP)) / "tracker.toml"


def default_db_path() -> Path:
    home = tracker_home()
    return (home or platformdirs.user_data_path(APP)) / "tracker.db"
