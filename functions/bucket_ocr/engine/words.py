"""Words of a recognised line, each with a box that follows the line's slant.

The recogniser reads a line crop as a sequence of columns (CTC time steps) and PaddleX,
asked for word boxes, returns each run of letters, digits or symbols with the x-range
of its columns (already corrected for the padding of short lines). Those boxes are
axis-aligned and split "$987.50" into "$" and "987.50"; we split the line text on
whitespace as a reader would, and place each word along the line polygon's top and
bottom edges, so boxes stay inside a skewed line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .text_line import Point, Word


def words_of_line(
    text: str,
    confidence: float,
    polygon: Sequence[Point],
    runs: Sequence[str] | None,
    run_boxes: Sequence[Any] | None,
) -> tuple[Word, ...]:
    """The whitespace-separated words of ``text`` with boxes inside ``polygon``.

    ``runs``/``run_boxes`` are PaddleX's ``text_word``/``text_word_region`` for the line;
    without them (or when they do not spell the text) words are placed in proportion to
    their characters, which is still inside the line and in order.
    """
    if len(polygon) != 4:
        return ()
    spans = _character_spans(text, polygon, runs, run_boxes) or _proportional_spans(text)
    words = []
    for match in re.finditer(r"\S+", text):
        # Runs come left to right, so a word spans from its first character to its last.
        start, end = _clamp(spans[match.start()][0]), _clamp(spans[match.end() - 1][1])
        words.append(Word(text=match.group(), confidence=confidence, polygon=_along(polygon, start, end)))
    return tuple(words)


def _character_spans(
    text: str, polygon: Sequence[Point], runs: Sequence[str] | None, run_boxes: Sequence[Any] | None
) -> list[tuple[float, float]] | None:
    """Per character of ``text``, its (start, end) as fractions of the line's length."""
    if not runs or run_boxes is None or len(runs) != len(run_boxes) or "".join(runs) != text:
        return None
    left, right = polygon[0][0], polygon[1][0]
    if right - left <= 1:
        return None  # a vertical line: PaddleX measures those along y, and we do not read them
    spans: list[tuple[float, float]] = []
    for run, box in zip(runs, run_boxes, strict=True):
        xs = [float(point[0]) for point in box]
        start = (min(xs) - left) / (right - left)
        end = (max(xs) - left) / (right - left)
        step = (end - start) / len(run)
        spans.extend((start + step * index, start + step * (index + 1)) for index in range(len(run)))
    return spans


def _proportional_spans(text: str) -> list[tuple[float, float]]:
    step = 1.0 / max(len(text), 1)
    return [(step * index, step * (index + 1)) for index in range(len(text))]


def _along(polygon: Sequence[Point], start: float, end: float) -> list[Point]:
    top_left, top_right, bottom_right, bottom_left = polygon
    return [
        _lerp(top_left, top_right, start),
        _lerp(top_left, top_right, end),
        _lerp(bottom_left, bottom_right, end),
        _lerp(bottom_left, bottom_right, start),
    ]


def _lerp(a: Point, b: Point, fraction: float) -> Point:
    return (a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction)


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)
