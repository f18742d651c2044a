"""Put detected lines into reading order by the page's layout.

Reading every row of a page left to right interleaves a two-column page line by line
(issue #10: 37.5 % CER on a real leaflet, against 1.0 % for Tesseract). So the page is
split into blocks by a recursive XY-cut on the empty space between line boxes (Nagy and
Seth, 1984), and the blocks are read top to bottom, left to right:

* horizontally, on every band that no line crosses, across the whole region;
* vertically, on a gutter that runs the whole height of a run of such bands, when the
  two sides look like columns of text rather than the columns of a table (`_is_column_cut`).

What is not cut further is read as before: rows top to bottom, each row left to right.

All of it is done in the page's own frame: a scan skewed by a few degrees makes the
boxes of neighbouring lines overlap and puts the centre of a short last line of a
paragraph above that of the long line before it, so every polygon is first turned
back by the skew of the page's text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from .text_line import Point, TextLine

Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Interval = tuple[float, float]

# A line joins a row when its vertical centre falls inside the middle half of the row's
# first line, so touching rows of dense text stay separate while a label and its value,
# whose tops differ by a few pixels, stay together. The same middle half is what must be
# clear for a horizontal cut: detection boxes of consecutive lines touch or overlap a
# little (the detector grows each box beyond the ink), so whole boxes leave no band free.
_CORE_MARGIN = 0.25

# The narrowest gutter, in median line heights (the height of a detection box: 24 px for
# 10 pt text at 150 DPI, ~1.15 x the font size, measured). Word spaces are ~0.25 of it
# and rarely split a box at all; column gutters run from ~0.85 (LaTeX two-column: 10 pt
# gap, 10 pt text) through 1.7-2.6 (a 1/4 inch leaflet gutter, measured between the
# boxes) to ~3 (Word's half inch). Table gutters are as wide or wider, so width cannot
# tell them apart: `_is_column_cut` does.
_MIN_GUTTER = 0.7

# A side reads as prose when its typical line is at least this many line heights long
# (~15 characters)...
_PROSE_LINE = 8.0
# ...and this many times the gutter: text columns are an order of magnitude wider than
# the gap between them, while a table spreads short cells across wide gaps.
_PROSE_OVER_GUTTER = 3.0

# Two sides are side by side, not one above the other, when their vertical extents
# share at least this fraction of the shorter one.
_SIDE_BY_SIDE = 0.5

# Skew is measured on lines whose top edge is at least this many times their side edge
# (a short box's angle is mostly noise), and only residuals this close to the page's
# dominant direction count: boxes further off are rotated or vertical text, not skew.
_LONG_LINE = 2.0
_MAX_SKEW = math.radians(15)


@dataclass(frozen=True)
class _Placed:
    line: TextLine
    box: Box  # in the deskewed frame

    @property
    def core(self) -> Interval:
        _, top, _, bottom = self.box
        margin = (bottom - top) * _CORE_MARGIN
        return (top + margin, bottom - margin)


def reading_order(lines: Sequence[TextLine]) -> list[TextLine]:
    if len(lines) <= 1:
        return list(lines)
    turn = _text_direction(lines)
    placed = [_Placed(line, _turned_box(line.polygon, turn)) for line in lines]
    height = _line_height(placed)
    # Text running across the page's lines (a margin note set bottom to top, a label on
    # a spine) would join every row it stands beside, and the rows' lines would then be
    # read in the order of their left edges; it is read last instead, left to right.
    across = [item for item in placed if _runs_across(item, turn, height)]
    along = [item for item in placed if not _runs_across(item, turn, height)]
    across.sort(key=lambda item: (item.box[0], item.box[1]))
    return [item.line for item in _xy_cut(along, height) + across]


def _text_direction(lines: Sequence[TextLine]) -> float:
    """The angle (radians, clockwise as y points down) of the page's text baselines.

    The whole quarter turn counts too: polygons start at a line's top-left as read, so
    lines of a page that was read turned (geometry mapped back onto the page as stored)
    vote for 90/180/270 degrees plus their skew, and are then read in their own frame.
    """
    votes: list[tuple[int, float, bool]] = []  # quarter turn, residual, long enough
    for line in lines:
        angle = _baseline_angle(line.polygon)
        if angle is None:
            continue
        quarter = round(angle / (math.pi / 2))
        top = math.dist(line.polygon[0], line.polygon[1])
        side = math.dist(line.polygon[1], line.polygon[2]) if len(line.polygon) > 2 else 0.0
        votes.append((quarter % 4, angle - quarter * math.pi / 2, top >= _LONG_LINE * side))
    if not votes:
        return 0.0
    counts = Counter(quarter for quarter, _, _ in votes)
    # Ties go to upright, the usual case.
    quarter = max(counts, key=lambda q: (counts[q], q == 0))
    near = [(residual, long) for q, residual, long in votes if q == quarter and abs(residual) <= _MAX_SKEW]
    residuals = [residual for residual, long in near if long] or [residual for residual, _ in near]
    return quarter * math.pi / 2 + (median(residuals) if residuals else 0.0)


def _baseline_angle(polygon: Sequence[Point]) -> float | None:
    if len(polygon) < 2 or polygon[0] == polygon[1]:
        return None
    (x0, y0), (x1, y1) = polygon[0], polygon[1]
    return math.atan2(y1 - y0, x1 - x0)


def _runs_across(item: _Placed, turn: float, height: float) -> bool:
    """Whether the line is set at right angles (or upside down) to the page's text.

    Its own first edge says so when the detector gives corners as read; a detector that
    gives them from the image's top-left leaves only the shape: a box twice as tall as
    the page's lines and twice as tall as it is wide (a drop cap is not).
    """
    angle = _baseline_angle(item.line.polygon)
    if angle is not None and abs(math.remainder(angle - turn, 2 * math.pi)) > math.pi / 4:
        return True
    x0, y0, x1, y1 = item.box
    return y1 - y0 > 2 * height and y1 - y0 > 2 * (x1 - x0)


def _turned_box(polygon: Sequence[Point], angle: float) -> Box:
    """The bounding box of the polygon once the page is turned back by ``angle``."""
    cos, sin = math.cos(angle), math.sin(angle)
    xs = [x * cos + y * sin for x, y in polygon]
    ys = [y * cos - x * sin for x, y in polygon]
    return (min(xs), min(ys), max(xs), max(ys))


def _line_height(items: Sequence[_Placed]) -> float:
    horizontal = [y1 - y0 for x0, y0, x1, y1 in (item.box for item in items) if x1 - x0 >= y1 - y0]
    heights = horizontal or [min(x1 - x0, y1 - y0) for x0, y0, x1, y1 in (item.box for item in items)]
    # A floor of a pixel keeps the thresholds meaningful for degenerate (flat) boxes.
    return max(median(heights), 1.0)


def _xy_cut(items: list[_Placed], height: float) -> list[_Placed]:
    if len(items) <= 1:
        return items
    ordered: list[_Placed] = []
    for band in _bands(_strips(items), height * _MIN_GUTTER):
        cut = _column_cut(band, height)
        if cut is None:
            ordered.extend(_rows(band))
            continue
        left = [item for item in band if item.box[2] <= cut]
        right = [item for item in band if item.box[2] > cut]
        ordered.extend(_xy_cut(left, height))
        ordered.extend(_xy_cut(right, height))
    return ordered


def _strips(items: list[_Placed]) -> list[list[_Placed]]:
    """Split on every horizontal band that no line's core crosses, top to bottom."""
    strips: list[list[_Placed]] = []
    bottom = -math.inf
    for item in sorted(items, key=lambda item: item.core):
        top, item_bottom = item.core
        if top > bottom:
            strips.append([])
        strips[-1].append(item)
        bottom = max(bottom, item_bottom)
    return strips


def _bands(strips: list[list[_Placed]], min_gutter: float) -> list[list[_Placed]]:
    """Merge consecutive strips for as long as a gutter runs down all of them.

    Cutting at every free band first, as the plain XY-cut does, fails on the most usual
    page: columns set on one grid leave a free band between every two rows, so each row
    of the page would become a block read across both columns. A run of strips that
    share a gutter is the region in which columns can be told apart.
    """
    bands: list[list[_Placed]] = []
    band: list[_Placed] = []
    covered: list[Interval] = []
    for strip in strips:
        merged = _merge(covered + [(item.box[0], item.box[2]) for item in strip], min_gutter)
        if band and len(merged) > 1:
            band.extend(strip)
            covered = merged
            continue
        if band:
            bands.append(band)
        band = list(strip)
        covered = _merge([(item.box[0], item.box[2]) for item in strip], min_gutter)
    if band:
        bands.append(band)
    return bands


def _merge(intervals: list[Interval], min_gap: float) -> list[Interval]:
    """Sorted union of the intervals, closing every gap narrower than ``min_gap``."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start - merged[-1][1] < min_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _column_cut(band: list[_Placed], height: float) -> float | None:
    """The x of the widest gutter in the band that separates columns, if any."""
    covered = _merge([(item.box[0], item.box[2]) for item in band], height * _MIN_GUTTER)
    gutters = sorted(pairwise(covered), key=lambda pair: pair[1][0] - pair[0][1], reverse=True)
    for (_, start), (end, _) in gutters:
        left = [item for item in band if item.box[2] <= start]
        right = [item for item in band if item.box[0] >= end]
        if _is_column_cut(left, right, end - start, height):
            return (start + end) / 2
    return None


def _is_column_cut(left: list[_Placed], right: list[_Placed], gutter: float, height: float) -> bool:
    """Whether the two sides of a gutter are read one after the other, not row by row.

    A table (an invoice's labels and amounts, a form's labels and values) also leaves a
    free gutter down many rows, and must still be read across. What tells it apart:

    * its cells sit on common rows: most lines of the side with fewer lines have a
      partner on the other side at the same height. Columns set at other heights (a
      heading in one, a figure caption in the other, another font) have few;
    * columns set on one grid do align, but then both sides are prose: lines many line
      heights long and much wider than the gutter, where table cells are short and
      spread across wide gaps.

    Either way the sides must stand beside each other; a right-aligned date above a
    left-aligned salutation is one above the other and stays in rows.
    """
    top = max(min(item.box[1] for item in left), min(item.box[1] for item in right))
    bottom = min(max(item.box[3] for item in left), max(item.box[3] for item in right))
    shorter = min(_extent(left), _extent(right))
    if bottom - top < _SIDE_BY_SIDE * shorter:
        return False
    fewer, more = sorted((left, right), key=len)
    partnered = sum(1 for item in fewer if any(_same_row(item, other) for other in more))
    if 2 * partnered < len(fewer):
        return True
    prose = max(_PROSE_LINE * height, _PROSE_OVER_GUTTER * gutter)
    return all(median(item.box[2] - item.box[0] for item in side) >= prose for side in (left, right))


def _extent(items: list[_Placed]) -> float:
    return max(item.box[3] for item in items) - min(item.box[1] for item in items)


def _same_row(a: _Placed, b: _Placed) -> bool:
    overlap = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    return overlap >= 0.5 * min(a.box[3] - a.box[1], b.box[3] - b.box[1])


def _rows(items: list[_Placed]) -> list[_Placed]:
    rows: list[list[_Placed]] = []
    # A line joins the row when it overlaps the row's first line by half the shorter
    # height. A band around the first line's centre (its middle half) split a receipt
    # scanned 0.7 degrees off: across 560 px its prices sat a quarter line above their
    # items, and detection's short boxes, snapped level, gave no skew to correct.
    for item in sorted(items, key=lambda item: (_centre_y(item), item.box[0])):
        if rows and _same_row(rows[-1][0], item):
            rows[-1].append(item)
        else:
            rows.append([item])
    return [item for row in rows for item in sorted(row, key=lambda item: item.box[0])]


def _centre_y(item: _Placed) -> float:
    return (item.box[1] + item.box[3]) / 2
