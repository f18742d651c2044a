"""Inputs to calibrate int8 quantisation on: printed pages rendered here, from a seed.

Calibration only has to show the networks the range of activations real pages cause, so
it needs no ground truth, but it must look like what the function reads: A4 pages at 150
and 200 DPI, 10-14 pt text, mild blur, noise and tilt. Text and font are files in
`calibration_data/` (see its README), never what the building machine happens to have,
so the same recipe quantises to the same bytes. Some words get Spanish accents, which the
font lacks: they draw its .notdef box, as they did when the default bundle was measured.
Tensors are preprocessed as PaddleX does at run time, with the constants the bundle's
inference.yml gives it.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ..errors import BundleBuildError
from ..inference_config import DET_MEAN, DET_STD, REC_IMAGE_SHAPE, REC_MEAN, REC_STD

DATA_DIR = Path(__file__).with_name("calibration_data")
PROSE = DATA_DIR / "prose.txt"
FONT = DATA_DIR / "aileron-regular-subset.ttf"

_ACCENTED = {"a": "áà", "e": "éè", "i": "í", "o": "óò", "u": "úü", "n": "ñ", "A": "Á", "E": "É", "O": "Ó"}
_A4_INCHES = (8.27, 11.69)
_DET_MEAN = np.array(DET_MEAN, np.float32)
_DET_STD = np.array(DET_STD, np.float32)
_, _REC_HEIGHT, _REC_MIN_WIDTH = REC_IMAGE_SHAPE

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class CalibrationSet:
    det: list[np.ndarray]  # [1, 3, H, W] each
    rec: list[np.ndarray]  # [1, 3, 48, W] each


def calibration_set(*, pages: int, lines: int, det_limit_side_len: int, seed: int) -> CalibrationSet:
    rng = random.Random(seed)
    words = _words(rng)
    font = _read(FONT, "font")
    det: list[np.ndarray] = []
    crops: list[Image.Image] = []
    for index in range(pages):
        page, boxes = _render_page(rng, words, font, dpi=(150, 200)[index % 2])
        det.append(_det_tensor(page, det_limit_side_len))
        crops.extend(page.crop(box) for box in boxes)
    rng.shuffle(crops)
    return CalibrationSet(det=det, rec=[_rec_tensor(crop) for crop in crops[:lines]])


def _words(rng: random.Random) -> list[str]:
    words = _read(PROSE, "text").decode("utf-8").split()
    # Accents and ñ on some words, so Spanish glyphs are part of what is measured.
    return [_accent(word, rng) if rng.random() < 0.3 else word for word in words]


def _accent(word: str, rng: random.Random) -> str:
    letters = list(word)
    spots = [i for i, ch in enumerate(letters) if ch in _ACCENTED]
    if spots:
        spot = rng.choice(spots)
        letters[spot] = rng.choice(_ACCENTED[letters[spot]])
    return "".join(letters)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BundleBuildError(f"cannot read the calibration {what} {path}: {exc}") from exc


def _render_page(rng: random.Random, words: list[str], font_file: bytes, dpi: int) -> tuple[Image.Image, list[Box]]:
    width, height = (round(side * dpi) for side in _A4_INCHES)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    size = round(rng.uniform(10, 14) / 72 * dpi)
    # Basic layout: Pillow uses libraqm instead where the machine has it, which places glyphs
    # differently, and calibration must not depend on the machine.
    font = ImageFont.truetype(io.BytesIO(font_file), size=size, layout_engine=ImageFont.Layout.BASIC)
    margin = dpi  # one inch
    boxes: list[Box] = []
    y = margin
    start = rng.randrange(len(words))
    while y + size * 2 < height - margin:
        line, start = _fill_line(draw, font, words, start, width - 2 * margin)
        draw.text((margin, y), line, font=font, fill=rng.randint(0, 60))
        left, top, right, bottom = (round(edge) for edge in draw.textbbox((margin, y), line, font=font))
        # Detection boxes are unclipped around the ink; crops carry that margin.
        pad = round((bottom - top) * 0.3)
        boxes.append((left - pad, top - pad, right + pad, bottom + pad))
        y += round(size * 1.5)
    page = page.rotate(rng.uniform(-1, 1), resample=Image.Resampling.BICUBIC, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8)))
    noisy = np.asarray(page, np.float32) + np.random.default_rng(rng.randrange(2**32)).normal(
        0, rng.uniform(2, 8), page.size[::-1]
    )
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB"), boxes


def _fill_line(
    draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont, words: list[str], start: int, width: int
) -> tuple[str, int]:
    line = ""
    index = start
    while True:
        candidate = f"{line} {words[index % len(words)]}".strip()
        if line and draw.textlength(candidate, font=font) > width:
            return line, index
        line, index = candidate, index + 1


def _det_tensor(page: Image.Image, limit: int) -> np.ndarray:
    width, height = page.size
    ratio = min(1.0, limit / max(width, height))
    size = (max(32, round(width * ratio / 32) * 32), max(32, round(height * ratio / 32) * 32))
    bgr = np.asarray(page.resize(size, Image.Resampling.BILINEAR), np.float32)[:, :, ::-1] / 255.0
    return np.ascontiguousarray(((bgr - _DET_MEAN) / _DET_STD).transpose(2, 0, 1)[None], np.float32)


def _rec_tensor(crop: Image.Image) -> np.ndarray:
    width = max(1, math.ceil(_REC_HEIGHT * crop.width / crop.height))
    resized = np.asarray(crop.resize((width, _REC_HEIGHT), Image.Resampling.BILINEAR), np.float32)[:, :, ::-1]
    tensor = np.zeros((1, 3, _REC_HEIGHT, max(width, _REC_MIN_WIDTH)), np.float32)
    tensor[0, :, :, :width] = (resized.transpose(2, 0, 1) / 255.0 - REC_MEAN) / REC_STD
    return tensor
