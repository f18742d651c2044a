"""Real OCR: words with boxes where the words were drawn, and tall receipts that stay legible.

Needs the `built_models_dir` session fixture (tests/support/models_fixture.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bucket_ocr.engine import EngineConfig, OcrEngine
from tests.support.pages import find_truetype_font

pytestmark = pytest.mark.functional

LINES = ["Invoice 12345 total: $987.50 EUR", "Short line", "Señor Núñez pagó el 15 de julio"]


@pytest.fixture(scope="module")
def engine(built_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> OcrEngine:
    return OcrEngine(EngineConfig(models_dir=built_models_dir, cache_dir=tmp_path_factory.mktemp("ocr-cache")))


def _drawn(lines: list[str], size: int = 26, angle: float = 0.0) -> tuple[Image.Image, list[list[tuple[str, tuple]]]]:
    """A page with ``lines`` drawn word by word, and each word's true box."""
    font = ImageFont.truetype(str(find_truetype_font()), size)
    page = Image.new("RGB", (1200, 80 + 70 * len(lines)), "white")
    draw = ImageDraw.Draw(page)
    truth = []
    for row, line in enumerate(lines):
        x, y = 60.0, 50.0 + 70 * row
        boxes = []
        for word in line.split():
            draw.text((x, y), word, font=font, fill="black")
            boxes.append((word, draw.textbbox((x, y), word, font=font)))
            x += font.getlength(word + " ")
        truth.append(boxes)
    if angle:
        page = page.rotate(angle, expand=False, fillcolor="white", resample=Image.BICUBIC)
    return page, truth


def _overlap(a: tuple, b: tuple) -> float:
    """Intersection over the smaller box, on x only: word boxes span their line's height."""
    inner = min(a[2], b[2]) - max(a[0], b[0])
    return max(inner, 0) / min(a[2] - a[0], b[2] - b[0])


def test_each_word_comes_back_with_a_box_over_where_it_was_drawn(engine: OcrEngine) -> None:
    # Given a page whose every word's position is known
    page, truth = _drawn(LINES)
    # When it is read
    lines = engine.read(page).lines
    # Then each line's words spell the line and lie over the drawn words, in order, inside the line
    assert [line.text for line in lines] == LINES
    for line, drawn in zip(lines, truth):
        assert " ".join(word.text for word in line.words) == line.text
        assert [word.text for word in line.words] == [text for text, _ in drawn]
        x0, y0, x1, y1 = line.bbox
        lefts = [word.bbox[0] for word in line.words]
        assert lefts == sorted(lefts)
        for word, (_, box) in zip(line.words, drawn):
            wx0, wy0, wx1, wy1 = word.bbox
            assert x0 - 0.5 <= wx0 < wx1 <= x1 + 0.5 and y0 - 0.5 <= wy0 < wy1 <= y1 + 0.5
            assert _overlap(word.bbox, box) > 0.7, (word.text, word.bbox, box)
            assert word.confidence == line.confidence


def test_words_of_a_page_skewed_by_three_degrees_stay_inside_their_slanted_line(engine: OcrEngine) -> None:
    page, _ = _drawn(LINES[:1], angle=3.0)
    (line,) = engine.read(page).lines
    assert [word.text for word in line.words] == LINES[0].split()
    tops = [word.polygon[0][1] for word in line.words]
    assert tops == sorted(tops, reverse=True)  # rotated counter-clockwise: later words sit higher


def test_a_long_till_receipt_is_read_at_a_legible_scale(engine: OcrEngine) -> None:
    # Given a 560x2950 receipt of 22 px text, which a 960 px long-side cap shrank 3x
    font = ImageFont.truetype(str(find_truetype_font()), 22)
    receipt = Image.new("RGB", (560, 2950), "white")
    draw = ImageDraw.Draw(receipt)
    rows = [f"ITEM {index:03d} COFFEE {index * 1.25:.2f}" for index in range(0, 80)]
    for index, row in enumerate(rows):
        draw.text((20, 20 + 36 * index), row, font=font, fill="black")
    # When it is read, then every row comes back as printed
    assert [line.text for line in engine.read(receipt).lines] == rows
