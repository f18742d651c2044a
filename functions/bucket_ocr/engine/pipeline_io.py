"""From a page image to PaddleOCR's input, and from its results to the engine's lines.

`OcrEngine` reads pages through these two, and so can a harness that runs a PaddleOCR
pipeline of its own (the benchmark's PaddleOCR-defaults contestant): both then judge
the same lines, in the same reading order, from what PaddleOCR returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from PIL import Image

from ..imaging import opaque_rgb
from .reading_order import reading_order
from .text_line import TextLine
from .words import words_of_line


def bgr_pixels(image: Image.Image) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """The page as PaddleOCR's `predict` takes an array: opaque, OpenCV-style BGR."""
    rgb = np.asarray(opaque_rgb(image))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def page_lines(results: Iterable[Mapping[str, Any]], width: int, height: int) -> list[TextLine]:
    """The lines of PaddleOCR's `predict` results for one `width` x `height` page, in reading order.

    Boxes recognition could not read are dropped, points are clipped to the page, and each
    line carries its words (when `predict` was asked for `return_word_box`, at their places).
    """
    lines: list[TextLine] = []
    for result in results:
        lines.extend(_text_lines(result, width, height))
    return reading_order(lines)


def _text_lines(result: Mapping[str, Any], width: int, height: int) -> list[TextLine]:
    lines = []
    runs = result.get("text_word") or [None] * len(result["rec_texts"])
    run_boxes = result.get("text_word_region") or [None] * len(result["rec_texts"])
    for raw, score, polygon, line_runs, line_boxes in zip(
        result["rec_texts"], result["rec_scores"], result["rec_polys"], runs, run_boxes, strict=True
    ):
        raw = str(raw)
        text = " ".join(raw.split())  # one space between words, so the words spell the line
        confidence = min(float(score), 1.0)
        if not text or confidence <= 0.0:
            continue  # a box detection found but recognition could not read
        points = [
            (min(max(float(x), 0.0), float(width)), min(max(float(y), 0.0), float(height)))
            for x, y in np.asarray(polygon).reshape(-1, 2)
        ]
        words = words_of_line(raw, confidence, points, line_runs, line_boxes)
        lines.append(TextLine(text=text, confidence=confidence, polygon=points, words=words))
    return lines
