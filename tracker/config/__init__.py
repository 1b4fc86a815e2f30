"""Configuration: tracker.toml read and checked (``load``), edited (``edit``), its ``[digest]`` and
``[stories]`` tables, and OPML import and export."""
