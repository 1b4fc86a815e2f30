"""Errors tracker raises; the CLI shows each one as "Error: ...".

* TrackerError
  x ConfigError   bad or missing tracker.toml / environment (exit 2)
  x FetchError    network failure, non-2xx, robots.txt refusal, body over the cap
  x ParseError    feed, page or bytes not parseable
  x QueryError    a search query that cannot be parsed
  x SendError     the SMTP server cannot be reached or refuses the login
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base class of every error tracker raises on purpose."""


class ConfigError(TrackerError):
    """The configuration file or environment is wrong; the message says where and how to fix it."""


class FetchError(TrackerError):
    """A URL could not be fetched.

    Args:
        url: the URL that failed.
        reason: a short human-readable reason.
        status: the HTTP status, when there was one.
    """

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        unresolved: bool = False,
    ) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429 / 503)
        self.unresolved = unresolved  # the host name did not resolve (DNS): often the machine's
        super().__init__(f"{url}: {reason}")


class ParseError(TrackerError):
    """Content was fetched but is not what the source promised (no entries, not text, ...)."""


class QueryError(TrackerError):
    """A search query could not be parsed; the message names the position."""


class SendError(TrackerError):
    """The SMTP server could not be reached, or refused the login or a message."""
