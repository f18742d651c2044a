"""page_lines/bgr_pixels: the public seam from PaddleOCR's predict results to the engine's lines."""

from __future__ import annotations

import numpy as np
from PIL import Image

from bucket_ocr.engine import bgr_pixels, page_lines


def _result(*lines: tuple[str, float, list[tuple[float, float]]]) -> dict[str, object]:
    """One page of PaddleOCR's predict output without word boxes."""
    return {
        "rec_texts": [text for text, _, _ in lines],
        "rec_scores": [score for _, score, _ in lines],
        "rec_polys": [np.array(polygon) for _, _, polygon in lines],
    }


def _box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def test_lines_come_in_reading_order_clipped_to_the_page_without_unread_boxes() -> None:
    # given predict results listing a lower line first, a box read as nothing, and a box
    # that the detector grew past the page's right and top edges
    result = _result(
        ("second   line", 0.9, _box(10, 60, 200, 80)),
        ("", 0.8, _box(10, 100, 50, 120)),
        ("unsure", 0.0, _box(10, 130, 50, 150)),
        ("first", 1.2, _box(10, -3, 260, 20)),
    )
    # when turned into the lines of a 240x200 page
    lines = page_lines([result], 240, 200)
    # then the page is read top to bottom, runs of spaces become one, and no point leaves the page
    assert [line.text for line in lines] == ["first", "second line"]
    assert lines[0].polygon == [(10.0, 0.0), (240.0, 0.0), (240.0, 20.0), (10.0, 20.0)]
    assert lines[0].confidence == 1.0
    # and each line's words spell it, inside it
    assert [word.text for word in lines[1].words] == ["second", "line"]


def test_pixels_are_opaque_bgr() -> None:
    # given a fully transparent red pixel
    image = Image.new("RGBA", (1, 1), (255, 0, 0, 0))
    # then PaddleOCR gets it on white paper, blue-green-red
    assert bgr_pixels(image).tolist() == [[[255, 255, 255]]]
    assert bgr_pixels(Image.new("RGB", (1, 1), (255, 0, 0))).tolist() == [[[0, 0, 255]]]
