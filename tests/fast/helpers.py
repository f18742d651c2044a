"""Documents for the fast tier: pages the fake engine tells apart by their size alone."""

from __future__ import annotations

import io

from PIL import Image


def blank_png(width: int = 120, height: int = 40) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()
