"""An engine for tests where OCR is not the point: the engine's interface, fixed lines out.

It reads nothing. A page is told apart by its size, and gets the lines given for that
size (or the default ones), placed inside the page, as the real engine's types. Failures
are queued: each read first takes the next one, if any, and raises it the way the real
engine would (an ``EngineError`` chained to what the library raised) or as given (a bug).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from bucket_ocr.engine.errors import EngineError
from bucket_ocr.engine.text_line import PageReading, TextLine, Word

DEFAULT_LINES = ("Invoice number 12345", "Total due 678 EUR")


def engine_failure(cause: BaseException) -> EngineError:
    """What ``OcrEngine.read`` raises when the library fails under it: ``cause`` chained."""
    error = EngineError(f"OCR inference failed: {cause}")
    error.__cause__ = cause
    return error


@dataclass
class FakeEngine:
    lines_by_size: Mapping[tuple[int, int], Sequence[str]] = field(default_factory=dict)
    default_lines: Sequence[str] = DEFAULT_LINES
    failures: list[BaseException] = field(default_factory=list)
    pages_read: int = 0  # reads that returned lines
    attempts: int = 0  # every call, failed ones too

    def read(self, image: Image.Image) -> PageReading:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.pages_read += 1
        texts = self.lines_by_size.get(image.size, self.default_lines)
        return PageReading(lines=[_line(text, row, image.size) for row, text in enumerate(texts)])

    def describe(self) -> dict[str, Any]:
        return {"name": "fake", "packages": {}, "bundle": "none", "models": {}, "settings": {}}


def _line(text: str, row: int, size: tuple[int, int]) -> TextLine:
    """A line across the page's width, one of 20 rows (kept inside the page whatever its size)."""
    width, height = size
    top, bottom = height * row / 20, height * (row + 1) / 20
    words, x = [], 0.0
    step = width / max(len(text), 1)
    for word in text.split():
        right = x + step * len(word)
        words.append(Word(word, 0.9, [(x, top), (right, top), (right, bottom), (x, bottom)]))
        x = right + step
    polygon = [(0.0, top), (float(width), top), (float(width), bottom), (0.0, bottom)]
    return TextLine(text=text, confidence=0.9, polygon=polygon, words=tuple(words))
