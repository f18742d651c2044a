"""Real OCR: words with boxes where they were drawn, turned pages read upright, receipts legible.

Needs the `built_models_dir` session fixture (tests/conftest.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bucket_ocr.engine import EngineConfig, EngineLoadError, OcrEngine
from bucket_ocr.models import DEFAULT_BUNDLE
from tests.support.pages import find_truetype_font

pytestmark = pytest.mark.functional

LINES = ["Invoice 12345 total: $987.50 EUR", "Short line", "Señor Núñez pagó el 15 de julio"]


@pytest.fixture
def engine(real_engine: OcrEngine) -> OcrEngine:
    """The session's engine itself: these tests read its pages directly, not through a counter."""
    return real_engine


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
    for line, drawn in zip(lines, truth, strict=True):
        assert " ".join(word.text for word in line.words) == line.text
        assert [word.text for word in line.words] == [text for text, _ in drawn]
        x0, y0, x1, y1 = line.bbox
        lefts = [word.bbox[0] for word in line.words]
        assert lefts == sorted(lefts)
        for word, (_, box) in zip(line.words, drawn, strict=True):
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


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_turned_page_is_read_upright_with_its_geometry_on_the_page_as_stored(engine: OcrEngine, turn: int) -> None:
    # Given a page stored turned (PIL turns counter-clockwise, so clockwise by 360 - turn)
    page, _ = _drawn(LINES)
    upright_reading = engine.read(page)
    stored = page.rotate(turn, expand=True)
    # When it is read
    reading = engine.read(stored)
    # Then it reads as the upright page does, and says how the stored page is turned
    assert [line.text for line in reading.lines] == LINES
    assert reading.rotation == (360 - turn) % 360
    assert reading.orientation_confidence is not None and reading.orientation_confidence >= 0.8
    # And each word's box is where that word is on the stored image
    for line, upright_line in zip(reading.lines, upright_reading.lines, strict=True):
        for word, upright_word in zip(line.words, upright_line.words, strict=True):
            assert _stored_box(upright_word.bbox, turn, page.size) == pytest.approx(word.bbox, abs=4)


def _stored_box(box: tuple, turn: int, size: tuple[int, int]) -> tuple:
    """Where a box of the upright page lands after PIL's rotate(turn, expand=True)."""
    width, height = size
    x0, y0, x1, y1 = box
    return {
        90: (y0, width - x1, y1, width - x0),
        180: (width - x1, height - y1, width - x0, height - y0),
        270: (height - y1, x0, height - y0, x1),
    }[turn]


def test_with_orientation_off_a_page_is_read_as_stored(built_models_dir: Path, tmp_path: Path) -> None:
    engine = OcrEngine(EngineConfig(models_dir=built_models_dir, cache_dir=tmp_path, orientation=False))
    reading = engine.read(_drawn(LINES[:1])[0].rotate(180))
    assert (reading.rotation, reading.orientation_confidence) == (0, None)
    assert engine.describe()["settings"]["orientation"] == "off"


def test_a_bundle_without_the_orientation_model_is_refused_unless_orientation_is_off(
    built_models_dir: Path, tmp_path: Path
) -> None:
    # Given a bundle built before the orientation model existed
    old = tmp_path / "models"
    shutil.copytree(built_models_dir / DEFAULT_BUNDLE, old / DEFAULT_BUNDLE)
    manifest_path = old / DEFAULT_BUNDLE / "bundle.json"
    manifest = json.loads(manifest_path.read_text())
    entry = manifest.pop("orientation")
    manifest["files"].pop(entry["file"])
    manifest_path.write_text(json.dumps(manifest))
    # Then asking for orientation fails at load, naming the fix; without it the bundle still serves
    with pytest.raises(EngineLoadError, match="OCR_ORIENTATION=off"):
        OcrEngine(EngineConfig(models_dir=old, cache_dir=tmp_path / "cache"))
    assert (
        OcrEngine(EngineConfig(models_dir=old, cache_dir=tmp_path / "cache", orientation=False))
        .read(_drawn(LINES[:1])[0])
        .lines
    )
