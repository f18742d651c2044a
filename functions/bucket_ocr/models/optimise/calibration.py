"""Inputs to calibrate int8 quantisation on: printed pages rendered here, from a seed.

Calibration only has to show the networks the range of activations real pages cause, so
it needs no ground truth, but it must look like what the function reads: A4 pages at 150
and 200 DPI, 10-14 pt text, mild blur, noise and tilt, English prose and Spanish accents.
The prose is the docstrings of Python's standard library (always installed, and not the
benchmark's text, so the benchmark measures pages the calibration never saw); Pillow's
built-in font draws it. Tensors are preprocessed exactly as PaddleX does at run time.
"""

from __future__ import annotations

import importlib
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

_DOCSTRING_MODULES = (
    "argparse", "collections", "csv", "email", "functools", "http.client", "json", "logging",
    "pathlib", "pickle", "shutil", "subprocess", "tarfile", "textwrap", "unittest", "zipfile",
)  # fmt: skip
_ACCENTED = {"a": "áà", "e": "éè", "i": "í", "o": "óò", "u": "úü", "n": "ñ", "A": "Á", "E": "É", "O": "Ó"}
_A4_INCHES = (8.27, 11.69)

# PaddleX's DetResizeForTest/NormalizeImage and OCRReisizeNormImg, as the bundle's
# inference.yml configures them.
_DET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_DET_STD = np.array([0.229, 0.224, 0.225], np.float32)
_REC_HEIGHT = 48
_REC_MIN_WIDTH = 320


@dataclass(frozen=True)
class CalibrationSet:
    det: list[np.ndarray]  # [1, 3, H, W] each
    rec: list[np.ndarray]  # [1, 3, 48, W] each


def calibration_set(*, pages: int, lines: int, det_limit_side_len: int, seed: int) -> CalibrationSet:
    rng = random.Random(seed)
    words = _words(rng)
    det: list[np.ndarray] = []
    crops: list[Image.Image] = []
    for index in range(pages):
        page, boxes = _render_page(rng, words, dpi=(150, 200)[index % 2])
        det.append(_det_tensor(page, det_limit_side_len))
        crops.extend(page.crop(box) for box in boxes)
    rng.shuffle(crops)
    return CalibrationSet(det=det, rec=[_rec_tensor(crop) for crop in crops[:lines]])


def _words(rng: random.Random) -> list[str]:
    words: list[str] = []
    for name in _DOCSTRING_MODULES:
        doc = importlib.import_module(name).__doc__ or ""
        words.extend(word for word in doc.split() if word.isprintable())
    # Accents and ñ on some words, so Spanish glyphs are part of what is measured.
    return [_accent(word, rng) if rng.random() < 0.3 else word for word in words]


def _accent(word: str, rng: random.Random) -> str:
    letters = list(word)
    spots = [i for i, ch in enumerate(letters) if ch in _ACCENTED]
    if spots:
        spot = rng.choice(spots)
        letters[spot] = rng.choice(_ACCENTED[letters[spot]])
    return "".join(letters)


def _render_page(rng: random.Random, words: list[str], dpi: int) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    width, height = (round(side * dpi) for side in _A4_INCHES)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    size = round(rng.uniform(10, 14) / 72 * dpi)
    font = ImageFont.load_default(size=size)
    margin = dpi  # one inch
    boxes = []
    y = margin
    start = rng.randrange(len(words))
    while y + size * 2 < height - margin:
        line, start = _fill_line(draw, font, words, start, width - 2 * margin)
        draw.text((margin, y), line, font=font, fill=rng.randint(0, 60))
        left, top, right, bottom = draw.textbbox((margin, y), line, font=font)
        # Detection boxes are unclipped around the ink; crops carry that margin.
        pad = round((bottom - top) * 0.3)
        boxes.append((left - pad, top - pad, right + pad, bottom + pad))
        y += round(size * 1.5)
    page = page.rotate(rng.uniform(-1, 1), resample=Image.BICUBIC, fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0, 0.8)))
    noisy = np.asarray(page, np.float32) + np.random.default_rng(rng.randrange(2**32)).normal(
        0, rng.uniform(2, 8), page.size[::-1]
    )
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB"), boxes


def _fill_line(draw: ImageDraw.ImageDraw, font, words: list[str], start: int, width: int) -> tuple[str, int]:
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
    bgr = np.asarray(page.resize(size, Image.BILINEAR), np.float32)[:, :, ::-1] / 255.0
    return np.ascontiguousarray(((bgr - _DET_MEAN) / _DET_STD).transpose(2, 0, 1)[None], np.float32)


def _rec_tensor(crop: Image.Image) -> np.ndarray:
    width = max(1, math.ceil(_REC_HEIGHT * crop.width / crop.height))
    resized = np.asarray(crop.resize((width, _REC_HEIGHT), Image.BILINEAR), np.float32)[:, :, ::-1]
    tensor = np.zeros((1, 3, _REC_HEIGHT, max(width, _REC_MIN_WIDTH)), np.float32)
    tensor[0, :, :, :width] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
    return tensor
