"""Canonical URLs and the article id derived from them."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that say how a reader arrived, never which article they read.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "ref_src",
        "spm",
        "cmpid",
        "ocid",
        "taid",
        "ito",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
AMP_SUFFIX = re.compile(r"\.amp(\.html?)$")
AMP_SEGMENT = re.compile(r"/amp(?=/|$)")


def usable_link(url: str) -> bool:
    """Whether ``url`` can be an article's link: http(s), a host, a valid port, no
    control characters. ``javascript:``, ``data:`` and broken URLs (``http://[::1/x``) are not."""
    if not url or len(url) > 4096 or any(ch < " " or ch == "\x7f" for ch in url):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def safe_href(url: str | None) -> str | None:
    """``url`` when it may be shown as a link (http or https), else None."""
    return url if url and usable_link(url) else None


def canonical_url(url: str) -> str:
    """One spelling per article URL, so copies of one page are one article.

    https for http; the host lower-cased, without ``www.``, ``m.``, ``mobile.`` or ``amp.``, and
    without a default port; AMP forms of the path (``/amp``, ``/amp/…``, ``.amp.html``) and AMP
    parameters dropped; no trailing slash (but the root); no fragment; no tracking parameters
    (``utm_*``, ``fbclid``, ...); the remaining query sorted.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    for prefix in HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix) :]:
            host = host[len(prefix) :]
            break
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if scheme == "http":
        scheme = "https"  # the same page over either: one article
    path = AMP_SUFFIX.sub(r"\1", parts.path)
    path = AMP_SEGMENT.sub("", path).rstrip("/") or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS
        and not k.lower().startswith(TRACKING_PREFIXES)
        and not (k.lower() in ("amp", "outputtype") and v.lower() in ("", "1", "true", "amp"))
    ]
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def article_id(url: str) -> str:
    """The stable id of the article at ``url``: 16 hex digits of SHA-1 over its canonical URL.

    Every stored row, tag link and (later) digest record keys on this: changing it changes every id.
    """
    return hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]
