"""One recognised line of text, in page-image pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float  # recognition score in (0, 1]
    polygon: list[tuple[float, float]]  # 4 corners, clockwise from top-left as detected

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) of the polygon."""
        xs = [x for x, _ in self.polygon]
        ys = [y for _, y in self.polygon]
        return (min(xs), min(ys), max(xs), max(ys))
