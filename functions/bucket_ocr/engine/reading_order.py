"""Put detected lines into reading order: rows top to bottom, each row left to right.

Detection returns boxes roughly sorted, but columns of a table or a label/value pair
that sit on one visual row can come out interleaved when their tops differ by a few
pixels; grouping by vertical overlap keeps such a row together.
"""

from __future__ import annotations

from typing import Sequence

from .text_line import TextLine


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    rows: list[list[TextLine]] = []
    row_band: tuple[float, float] | None = None  # y-range of the current row's first line
    for line in sorted(lines, key=lambda item: (_centre_y(item), item.bbox[0])):
        centre = _centre_y(line)
        if row_band is not None and row_band[0] <= centre <= row_band[1]:
            rows[-1].append(line)
            continue
        _, top, _, bottom = line.bbox
        # A line joins the row when its vertical centre falls inside the middle of the
        # row's first line, so touching rows of dense text stay separate.
        quarter = (bottom - top) / 4
        row_band = (top + quarter, bottom - quarter) if quarter > 0 else (top, bottom)
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda item: item.bbox[0])]


def _centre_y(line: TextLine) -> float:
    _, top, _, bottom = line.bbox
    return (top + bottom) / 2
