"""Bytes to text: the header's charset, then a BOM or <meta charset>, then detection.

Chinese sites lie about encodings in both directions, so a declared charset that fails to decode
falls through to the next clue instead of producing mojibake.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from tracker.errors import ParseError

# gb2312 and gbk pages routinely use characters only gb18030 has; big5 pages use HKSCS additions.
ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs"}
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def header_charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, if any."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def normalise_charset(name: str | None) -> str | None:
    """A Python codec name for ``name``, with the Chinese supersets substituted; None if unknown."""
    if not name:
        return None
    name = name.strip().lower()
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name if name not in ALIASES.values() else name
    except LookupError:
        return None


def sniff_charset(content: bytes) -> str | None:
    """The charset a BOM, ``<meta charset>`` or XML declaration in the first 4 KiB names."""
    for bom, name in BOMS:
        if content.startswith(bom):
            return name
    head = content[:4096]
    match = META_CHARSET.search(head) or XML_ENCODING.search(head)
    return normalise_charset(match.group(1).decode("ascii")) if match else None


def decode_bytes(content: bytes, header_charset: str | None = None) -> str:
    """Decode a page or feed body to text.

    The clues in order (header, BOM / meta / XML declaration, UTF-8) must decode cleanly first; a
    lying label falls through to the next. If none does, the first that decodes with only a stray
    bad byte or two wins, the bytes replaced by U+FFFD: a single ``\\xff`` in a UTF-8 feed must
    not turn the whole feed into another codec's mojibake. Detection comes last.

    Raises:
        ParseError: the body is empty, or is not text in any encoding we can recognise.
    """
    if not content.strip():
        raise ParseError("empty body")
    clues = [c for c in (normalise_charset(header_charset), sniff_charset(content), "utf-8") if c]
    for candidate in clues:
        try:
            return content.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue  # a lying label: try the next clue
    for candidate in clues:
        text = _decode_nearly(content, candidate)
        if text is not None:
            return text
    best = from_bytes(content[:200_000]).best()
    if best is None or best.encoding is None:
        raise ParseError("undecodable bytes: not text in any known encoding")
    encoding = normalise_charset(best.encoding) or best.encoding
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(f"undecodable bytes: detected {encoding} but decoding failed") from exc


def _decode_nearly(content: bytes, codec: str) -> str | None:
    """``content`` in ``codec`` if only a few bytes (1 in 2,000, at least 2) fail, else None."""
    try:
        text = content.decode(codec, "replace")
    except LookupError:
        return None
    bad = text.count("\ufffd") - content.decode(codec, "ignore").count("\ufffd")
    return text if bad <= max(2, len(content) // 2000) else None
