"""OPML, the feed readers' exchange format: read their subscription lists, write ours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree

from tracker.errors import ParseError
from tracker.models import Source


@dataclass(frozen=True)
class Outline:
    title: str
    xml_url: str
    html_url: str = ""


def parse_opml(content: bytes) -> list[Outline]:
    """Every feed outline (one with an ``xmlUrl``), however deeply nested in folders.

    Raises:
        ParseError: the file is not XML or has no <body>.
    """
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise ParseError(f"not an OPML file: {exc}") from exc
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ParseError("not an OPML file: expected <opml> with a <body>")
    outlines = []
    for node in body.iter("outline"):
        url = node.get("xmlUrl") or node.get("xmlurl")
        if url:
            title = node.get("title") or node.get("text") or url
            outlines.append(
                Outline(title.strip(), url.strip(), (node.get("htmlUrl") or "").strip())
            )
    return outlines


def render_opml(sources: list[tuple[Source, str]], title: str = "tracker sources") -> str:
    """OPML 2.0 for (source, feed URL) pairs; the outline's text is the source name."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(root, "body")
    for source, url in sources:
        attrs = {"type": "rss", "text": source.name, "title": source.name, "xmlUrl": url}
        if source.lang:
            attrs["language"] = source.lang
        ElementTree.SubElement(body, "outline", attrs)
    ElementTree.indent(root)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(root, encoding="unicode")
        + "\n"
    )


def source_name(title: str, taken: set[str]) -> str:
    """A source name from a feed title: lower-case words joined by '-', unique among ``taken``."""
    base = re.sub(r"[^\w]+", "-", title.lower()).strip("-") or "feed"
    name, n = base[:40], 2
    while name in taken:
        name, n = f"{base[:36]}-{n}", n + 1
    return name
