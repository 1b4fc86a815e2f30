"""The digest's HTML in two real rendering engines: Chromium (Blink) and Firefox (Gecko).

Each engine, headless, screenshots the golden digest at a phone's width and a desktop's. The
checks are what a reader would notice: the page is drawn (header text, the movement chart's
bars, which are table cells, not images) and nothing runs off the right edge. Skipped, with the
reason, when an engine is not installed (`.ci/run` installs both from Debian's packages).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

PIL = pytest.importorskip("PIL.Image")

GOLDEN = Path(__file__).parent / "data" / "digest" / "digest.html"
BACKGROUND = (0xF4, 0xF5, 0xF7)
BAR_NEW = (0x1A, 0x7F, 0x37)


def _chromium(binary: str) -> Callable[[Path, Path, int, int], list[str]]:
    def command(page: Path, out: Path, width: int, height: int) -> list[str]:
        return [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={out.parent / 'chromium-profile'}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ]

    return command


def _firefox(binary: str) -> Callable[[Path, Path, int, int], list[str]]:
    def command(page: Path, out: Path, width: int, height: int) -> list[str]:
        profile = out.parent / "firefox-profile"
        profile.mkdir(exist_ok=True)
        return [
            binary,
            "--headless",
            "--no-remote",
            "-profile",
            str(profile),
            "--screenshot",
            str(out),
            f"--window-size={width},{height}",
            page.as_uri(),
        ]

    return command


ENGINES = {
    "chromium": ("chromium", _chromium),
    "firefox": ("firefox-esr", _firefox),
}


def screenshot(engine: str, tmp_path: Path, width: int, height: int = 9000) -> object:
    name, make = ENGINES[engine]
    binary = shutil.which(name) or shutil.which(engine)
    if binary is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    out = tmp_path / f"{engine}-{width}.png"
    subprocess.run(
        make(binary)(GOLDEN, out, width, height),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return PIL.open(out).convert("RGB")


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("width", [400, 800])
def test_the_digest_renders_and_fits_the_width(engine: str, width: int, tmp_path: Path) -> None:
    image = screenshot(engine, tmp_path, width)
    w, h = image.size  # type: ignore[attr-defined]
    assert w == width
    pixels = image.load()  # type: ignore[attr-defined]
    # The header is drawn: dark text near the top left.
    header = [pixels[x, y] for x in range(16, min(300, w)) for y in range(20, 60)]
    assert any(sum(p) < 200 for p in header)
    # Nothing runs off the right edge: the last column is the page background all the way down
    # to where the content ends.
    edge = [pixels[w - 2, y] for y in range(0, h, 4)]
    off_background = [
        p for p in edge if max(abs(a - b) for a, b in zip(p, BACKGROUND, strict=True)) > 6
    ]
    assert len(off_background) <= len(edge) // 50, "content reaches the right edge"
    # The movement chart's bars (table cells with a background colour) are drawn.
    colours = dict((c, n) for n, c in image.getcolors(maxcolors=1 << 24))  # type: ignore[attr-defined]
    assert colours.get(BAR_NEW, 0) > 50
