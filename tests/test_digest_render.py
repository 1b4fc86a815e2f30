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
@pytest.mark.parametrize("width", [390, 800])
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


# Characters both scripts write with one code point but draw differently (the inner strokes of
# 骨, the foot of 直, the top of 今): what lang= and a font stack with SC and TC faces decide.
SHARED = "骨直今令角"


def test_a_traditional_headline_is_drawn_with_traditional_glyph_shapes(tmp_path: Path) -> None:
    from tracker.digest.render import font_stack

    if (
        not shutil.which("fc-list")
        or "CJK TC"
        not in subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    ):
        pytest.skip("no CJK font with traditional faces (apt-get install fonts-noto-cjk)")
    page = tmp_path / "scripts.html"
    rows = "".join(
        f'<div lang="{lang}" style="font-family:{font_stack(lang)};font-size:64px;'
        f'height:90px;line-height:90px;margin:0;padding:0 10px;">{SHARED}</div>'
        for lang in ("zh-Hans", "zh-Hant")
    )
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        f'<body style="margin:0;background:#fff;color:#000;">{rows}</body></html>',
        encoding="utf-8",
    )
    name, make = ENGINES["chromium"]
    binary = shutil.which(name)
    if binary is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    out = tmp_path / "scripts.png"
    subprocess.run(make(binary)(page, out, 420, 200), check=True, capture_output=True, timeout=120)
    image = PIL.open(out).convert("L")
    simplified = image.crop((0, 0, 420, 90))
    traditional = image.crop((0, 90, 420, 180))
    a, b = simplified.tobytes(), traditional.tobytes()  # one byte per pixel (grey)
    ink = [sum(1 for p in im if p < 128) for im in (a, b)]
    assert min(ink) > 500  # both lines were drawn
    differing = sum(1 for x, y in zip(a, b, strict=True) if abs(x - y) > 100)
    assert differing > 200, "the same code points were drawn alike in both scripts"
