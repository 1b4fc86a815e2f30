"""The bundled sample site behind ``tracker demo``: articles written for the project, served from
loopback as two RSS feeds, one Atom feed and one listing page, with realistic page clutter, plus
a screening list and two Federal Register rules (the API's JSON): one with dates ahead, one an
Entity List addition with its full-text XML."""

from tracker.demo.server import serve_site
from tracker.demo.site import (
    DEMO_ORIGIN,
    build_site,
    demo_settings,
    demo_sources,
    load_articles,
    shifted,
)

__all__ = ["build_site", "demo_settings", "demo_sources", "serve_site"]

__all__ = [
    "DEMO_ORIGIN",
    "build_site",
    "demo_settings",
    "demo_sources",
    "load_articles",
    "serve_site",
    "shifted",
]
