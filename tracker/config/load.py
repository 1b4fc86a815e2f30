"""Settings and sources from ``tracker.toml``; where the config file and the database live.

Precedence is flag > environment > file > :class:`Settings` defaults. Secrets never live in the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from tracker.config.digest import DigestSettings, check_digest_texts, parse_subscribers
from tracker.config.stories import StoryRules
from tracker.errors import ConfigError
from tracker.ingest.sources import KINDS
from tracker.models import Source
from tracker.urls import usable_link

T = TypeVar("T")

DEFAULT_USER_AGENT = (
    "tracker/0.1 (export-control news tracker; +https://github.com/tracker-dev/tracker)"
)

# Keys every source may have, then the extra keys each kind accepts (with their types).
COMMON_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "kind": str,
    "url": str,
    "enabled": bool,
    "lang": str,
    "min_interval": (int, float),
    "official": bool,  # default: the kind's (the Federal Register kinds are official)
    "title": str,  # the name the digest shows (default: name)
}


@dataclass(frozen=True)
class Settings:
    """Fetch behaviour; every field can be set under ``[settings]`` in tracker.toml."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    request_deadline: float = 60.0  # seconds for a whole request, body included
    source_deadline: float = 900.0  # seconds one source may take; the rest waits for the next run
    max_body_mb: float = 10.0
    min_interval: float = 1.0  # seconds between two requests to one host
    retries: int = 3  # extra attempts on 429 / 5xx / connection errors
    backoff: float = 1.0  # first retry wait when the server gives no Retry-After
    max_retry_wait: float = 120.0  # never sleep longer than this for one Retry-After
    obey_robots: bool = True
    source_workers: int = 8  # sources fetched at the same time (each host keeps its interval)
    vocabulary: str | None = None  # a user vocabulary file that extends the packaged one

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


@dataclass(frozen=True)
class Config:
    """A loaded tracker.toml."""

    path: Path | None
    settings: Settings = field(default_factory=Settings)
    sources: tuple[Source, ...] = ()
    stories: StoryRules = field(default_factory=StoryRules)
    digest: DigestSettings = field(default_factory=DigestSettings)


def default_config_text() -> str:
    """The commented tracker.toml that ``tracker init`` writes."""
    return resources.files("tracker").joinpath("data/default_config.toml").read_text("utf-8")


def load_config(path: Path) -> Config:
    """Read and check a tracker.toml.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or has an unknown key or kind.
    """
    if not path.exists():
        raise ConfigError(f"no config at {path}; run 'tracker init' to write one, or pass --config")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Check the parsed TOML ``data``; ``path`` only names the file in errors."""
    where = str(path) if path else "config"
    unknown = set(data) - {"settings", "sources", "stories", "digest"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown top-level key {sorted(unknown)[0]!r}; "
            "expected [settings], [[sources]], [stories] or [digest]"
        )
    settings = _parse_table(data.get("settings", {}), Settings, "settings", where)
    _check_ranges(settings, where)
    stories = _parse_table(data.get("stories", {}), StoryRules, "stories", where)
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{where}: 'sources' must be an array of tables, written [[sources]]")
    sources = [_parse_source(raw, i, where) for i, raw in enumerate(raw_sources, 1)]
    seen: set[str] = set()
    for source in sources:
        if source.name in seen:
            raise ConfigError(f"{where}: two sources are named {source.name!r}; names must differ")
        seen.add(source.name)
    raw_digest = data.get("digest", {})
    if not isinstance(raw_digest, dict):
        raise ConfigError(f"{where}: [digest] must be a table")
    options = {k: v for k, v in raw_digest.items() if k != "subscribers"}
    digest = replace(
        _parse_table(options, DigestSettings, "digest", where),
        subscribers=parse_subscribers(raw_digest.get("subscribers", []), where),
    )
    check_digest_texts(digest, where)
    return Config(
        path=path, settings=settings, sources=tuple(sources), stories=stories, digest=digest
    )


# Settings that must be above zero (a timeout of -1 was accepted, then crashed the fetch), and
# those that may be zero but not negative.
POSITIVE = (
    "connect_timeout",
    "read_timeout",
    "request_deadline",
    "source_deadline",
    "max_body_mb",
    "source_workers",
)
NOT_NEGATIVE = ("min_interval", "retries", "backoff", "max_retry_wait")


def _check_ranges(settings: Settings, where: str) -> None:
    for key in POSITIVE:
        if getattr(settings, key) <= 0:
            raise ConfigError(
                f"{where}: [settings] {key} must be above 0, not {getattr(settings, key)!r}"
            )
    for key in NOT_NEGATIVE:
        if getattr(settings, key) < 0:
            raise ConfigError(
                f"{where}: [settings] {key} must be 0 or more, not {getattr(settings, key)!r}"
            )
    if settings.request_deadline > 24 * 3600:
        raise ConfigError(f"{where}: [settings] request_deadline is at most a day (86400)")


def _parse_table(raw: Any, cls: type[T], name: str, where: str) -> T:
    """A ``[name]`` table checked against the dataclass ``cls``: known keys, right types."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    defaults = cls()
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"{where}: [{name}] has unknown key {key!r}; known keys: {', '.join(known)}"
            )
        default = getattr(defaults, key)
        expected: tuple[type, ...] = (
            (str,)
            if default is None
            else (int, float)
            if isinstance(default, float)
            else (type(default),)
        )
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            kind = "number" if float in expected else expected[0].__name__
            raise ConfigError(f"{where}: [{name}] {key} = {value!r} is not a {kind}")
    return cls(**raw)


def _parse_source(raw: Any, index: int, where: str) -> Source:
    label = f"[[sources]] #{index}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: {label} must be a table")
    for key in ("name", "kind"):
        if not raw.get(key):
            raise ConfigError(f"{where}: {label} needs {key!r}")
    kind = raw["kind"]
    spec = KINDS.get(kind)
    if spec is None:
        raise ConfigError(
            f"{where}: source {raw['name']!r} has unknown kind {kind!r}; "
            f"supported kinds: {', '.join(KINDS)}"
        )
    if not raw.get("url") and spec.default_url is None:
        raise ConfigError(f"{where}: {label} needs 'url'")
    raw = {"url": spec.default_url or "", **raw}
    label = f"source {raw['name']!r}"
    allowed = {**COMMON_KEYS, **spec.keys}
    for key, value in raw.items():
        if key not in allowed:
            raise ConfigError(
                f"{where}: {label} has unknown key {key!r}; {kind} sources take: {', '.join(allowed)}"
            )
        expected = allowed[key]
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ConfigError(f"{where}: {label}: {key} = {value!r} has the wrong type")
    for key in spec.required:
        if key not in raw:
            raise ConfigError(f"{where}: {label} is a {kind} source and needs {key!r}")
    problem = spec.check(raw)
    if problem:
        raise ConfigError(f"{where}: {label}: {problem}")
    if not str(raw["url"]).startswith(("http://", "https://")):
        raise ConfigError(f"{where}: {label}: url must start with http:// or https://")
    if not usable_link(raw["url"]):
        raise ConfigError(f"{where}: {label}: url {raw['url']!r} is not a valid URL")
    for key in ("max_items", "max_links", "per_page", "max_pages"):
        if key in raw and raw[key] < 1:
            raise ConfigError(f"{where}: {label}: {key} must be 1 or more")
    if raw.get("min_interval", 0) < 0:
        raise ConfigError(f"{where}: {label}: min_interval must be 0 or more")
    options = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
    min_interval = raw.get("min_interval")
    return Source(
        name=raw["name"],
        kind=kind,
        url=raw["url"],
        enabled=raw.get("enabled", True),
        lang=raw.get("lang"),
        min_interval=float(min_interval) if min_interval is not None else None,
        options=options,
        official=raw.get("official", spec.official),
        title=raw.get("title"),
    )
