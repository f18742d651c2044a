"""From pixels of the page as stored to PDF user space.

The result's geometry is in pixels of the page as it was decoded: for a PDF page, the
bitmap PDFium rendered at ``dpi``, which is the page's crop box turned clockwise by its
``/Rotate`` (PDFium applies it); for an image, the image after its EXIF orientation.
Pixels run right and down from the top-left corner; PDF user space runs right and up from
the box's lower-left corner, before ``/Rotate`` turns it for display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, SupportsFloat

POINTS_PER_INCH = 72.0

Point = tuple[float, float]


@dataclass(frozen=True)
class PageFrame:
    """Where a stored page's pixels land in a PDF page's user space."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1: the visible box, user space
    rotate: int  # the PDF page's /Rotate: clockwise degrees, 0/90/180/270
    points_per_pixel: tuple[float, float]  # along the stored page's x and y

    def to_user(self, x: float, y: float) -> Point:
        # (u, v): points from the top-left corner of the page as displayed (turned).
        u, v = x * self.points_per_pixel[0], y * self.points_per_pixel[1]
        x0, y0, x1, y1 = self.box
        # Turning the box clockwise brings its lower-left corner to the top left at 90,
        # its upper-right corner at 180 and its upper-left at 0; each case walks from
        # that corner along the edges that became the displayed top and left.
        if self.rotate == 90:
            return x0 + v, y0 + u
        if self.rotate == 180:
            return x1 - u, y0 + v
        if self.rotate == 270:
            return x1 - v, y1 - u
        return x0 + u, y1 - v


def points_per_pixel(page: Mapping[str, Any], displayed_size: tuple[float, float]) -> tuple[float, float]:
    """Points per pixel from the page's dpi, or from its displayed size when it has none.

    ``displayed_size`` is the page's size in points as displayed (after /Rotate).
    """
    dpi = page.get("dpi")
    if dpi:
        return POINTS_PER_INCH / float(dpi[0]), POINTS_PER_INCH / float(dpi[1])
    # A 1.0 result has no dpi; PDFium renders the whole displayed page, so its size in
    # pixels gives the scale back within a pixel's rounding.
    return displayed_size[0] / page["width"], displayed_size[1] / page["height"]


def visible_box(
    mediabox: Sequence[SupportsFloat], cropbox: Sequence[SupportsFloat]
) -> tuple[float, float, float, float]:
    """The crop box clipped to the media box, as PDFium sizes the page it renders."""
    mx0, my0, mx1, my1 = _normalised(mediabox)
    cx0, cy0, cx1, cy1 = _normalised(cropbox)
    box = max(mx0, cx0), max(my0, cy0), min(mx1, cx1), min(my1, cy1)
    # A crop box outside the media box clips to nothing; PDFium then keeps the media box.
    return box if box[2] > box[0] and box[3] > box[1] else (mx0, my0, mx1, my1)


def _normalised(box: Sequence[SupportsFloat]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def word_corners(word: Mapping[str, Any], rotation: int) -> tuple[Point, Point, Point]:
    """Top-left, bottom-left and bottom-right corners of a word *as read*, in pixels.

    The polygon runs clockwise from the text's top-left corner; with more than four
    corners (the schema allows it) the bbox stands in, its corners picked by the page's
    rotation, which says which way the text runs on the stored page.
    """
    polygon = word.get("polygon") or []
    if len(polygon) == 4:
        top_left, _, bottom_right, bottom_left = ((float(x), float(y)) for x, y in polygon)
        return top_left, bottom_left, bottom_right
    x0, y0, x1, y1 = (float(v) for v in word["bbox"])
    # Clockwise corners of the box from its top-left; the text's top-left is a quarter
    # turn further round for each 90 degrees the stored page is turned.
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    start = (rotation // 90) % 4
    top_left, _, bottom_right, bottom_left = (corners[(start + i) % 4] for i in range(4))
    return top_left, bottom_left, bottom_right
