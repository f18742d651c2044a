"""What a result must hold beyond its schema: geometry that agrees with itself.

The schema can say a ratio is within 0-1 but not that it is the pixel figure over the
page's size, nor that a word sits inside its line; every result a test produces is held
to both here.
"""

from __future__ import annotations

from typing import Any

from tests.support.schema import result_validator

RATIO_TOLERANCE = 1e-6  # the sixth decimal a ratio is rounded to
PIXEL_TOLERANCE = 1.0  # words and lines are rounded apart, a tenth of a pixel each; detector boxes are looser


def check_result(result: dict[str, Any]) -> None:
    result_validator().validate(result)
    for page in result["pages"]:
        size = (page["width"], page["height"])
        for line in page["lines"]:
            check_normalised(line, size)
            for word in line["words"]:
                check_normalised(word, size)
                assert inside(word["bbox"], line["bbox"]), f"word {word['text']!r} outside its line {line['text']!r}"
            if line["words"]:
                assert " ".join(word["text"] for word in line["words"]) == line["text"]


def check_normalised(region: dict[str, Any], size: tuple[int, int]) -> None:
    """Each ratio is its pixel figure over the page's width (x) or height (y), clamped to the page."""
    corners = [(x, size[0]) for x in region["bbox"][::2]] + [(y, size[1]) for y in region["bbox"][1::2]]
    ratios = region["bbox_normalized"][::2] + region["bbox_normalized"][1::2]
    for (x, y), (nx, ny) in zip(region["polygon"], region["polygon_normalized"], strict=True):
        corners += [(x, size[0]), (y, size[1])]
        ratios += [nx, ny]
    for (pixels, side), ratio in zip(corners, ratios, strict=True):
        assert abs(ratio - min(max(pixels / side, 0.0), 1.0)) <= RATIO_TOLERANCE, (pixels, side, ratio)


def inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0] - PIXEL_TOLERANCE
        and inner[1] >= outer[1] - PIXEL_TOLERANCE
        and inner[2] <= outer[2] + PIXEL_TOLERANCE
        and inner[3] <= outer[3] + PIXEL_TOLERANCE
    )
