"""Render page images of known text, so OCR tests can compare against ground truth.

Uses a real TrueType font found on the machine (DejaVu on Debian images: package
fonts-dejavu-core); PIL's bitmap default font is too small and crude to OCR reliably.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

A4_WIDTH_INCHES = 8.27
A4_HEIGHT_INCHES = 11.69
POINTS_PER_INCH = 72

_PREFERRED_FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "LiberationSans-Regular.ttf", "FreeSans.ttf")
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")


class FontNotFoundError(RuntimeError):
    """No TrueType font on this machine; install one, e.g. apt-get install fonts-dejavu-core."""


@functools.lru_cache(maxsize=1)
def find_truetype_font() -> Path:
    candidates: list[Path] = []
    for directory in _FONT_DIRS:
        if directory.is_dir():
            candidates.extend(directory.rglob("*.ttf"))
    by_name = {path.name: path for path in candidates}
    for name in _PREFERRED_FONTS:
        if name in by_name:
            return by_name[name]
    if shutil.which("fc-match"):
        # fontconfig knows fonts installed in places we did not look.
        found = subprocess.run(
            ["fc-match", "--format=%{file}", "sans:fontformat=TrueType"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if found.endswith(".ttf") and Path(found).is_file():
            return Path(found)
    if candidates:
        return sorted(candidates)[0]
    raise FontNotFoundError("no TrueType font found; install one, e.g. `apt-get install fonts-dejavu-core`")


def render_text_page(
    lines: Sequence[str],
    width: float = A4_WIDTH_INCHES,
    dpi: int = 150,
    font_size: float = 11,
    *,
    height: float | None = None,
    margin: float = 0.8,
    line_spacing: float = 1.6,
) -> Image.Image:
    """A white RGB page with `lines` in black, one per row, top to bottom.

    `width`, `height` and `margin` are in inches and `font_size` in points, so the same
    call gives the same physical layout at any `dpi`. `height` defaults to A4 proportions
    but grows to fit all lines.
    """
    scale = dpi / POINTS_PER_INCH
    font = ImageFont.truetype(str(find_truetype_font()), size=max(1, round(font_size * scale)))
    line_height = round(font_size * scale * line_spacing)
    margin_px = round(margin * dpi)
    width_px = round(width * dpi)
    natural_height = round((height or width * A4_HEIGHT_INCHES / A4_WIDTH_INCHES) * dpi)
    needed = 2 * margin_px + line_height * len(lines)
    page = Image.new("RGB", (width_px, max(natural_height, needed)), "white")
    draw = ImageDraw.Draw(page)
    for index, line in enumerate(lines):
        draw.text((margin_px, margin_px + index * line_height), line, fill="black", font=font)
    return page
