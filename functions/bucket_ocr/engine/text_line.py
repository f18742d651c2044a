"""What the engine reads on a page: lines of words, in the coordinates of the page as stored."""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]


def bbox_of(polygon: list[Point]) -> tuple[float, float, float, float]:
    """(x_min, y_min, x_max, y_max) of a polygon."""
    xs = [x for x, _ in polygon]
    ys = [y for _, y in polygon]
    return (min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-1; the recogniser scores lines, so a word carries its line's score
    polygon: list[Point]  # 4 corners, clockwise from the word's top-left as read

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return bbox_of(self.polygon)


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float  # recognition score in (0, 1]
    polygon: list[Point]  # 4 corners, clockwise from the line's top-left as read
    words: tuple[Word, ...] = ()  # in reading order; " ".join(w.text) == text

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the polygon."""
        return bbox_of(self.polygon)


@dataclass(frozen=True)
class PageReading:
    """One page as the engine read it.

    ``rotation`` is how far the page as stored is turned clockwise from upright
    (0/90/180/270; see ``orientation``); it was read turned back, and its geometry is
    mapped onto the page as stored.
    """

    lines: list[TextLine] = field(default_factory=list)
    rotation: int = 0
    orientation_confidence: float | None = None  # None: orientation was not classified
    orientation_seconds: float = 0.0  # time spent classifying the orientation
