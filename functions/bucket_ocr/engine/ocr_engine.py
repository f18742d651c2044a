"""PaddleOCR 3.x behind a small, thread-safe interface that knows nothing of Lambda.

One OcrEngine loads the det/rec models of a bundle built by `bucket-ocr-models` once and
then serves many `recognize` calls. Paddle predictors are not thread-safe, so calls are
serialised with a lock; run several engines (processes) for parallelism.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image

from ..models.errors import BundleVerificationError
from ..models.manifest import Manifest, check_files, read_manifest
from . import parallel_recognition
from .config import EngineConfig
from .errors import EngineError, EngineLoadError
from .library_logs import ignore_build_hints, route_library_logs
from .orientation import PageOrienter, to_stored, upright
from .pipeline_io import bgr_pixels, page_lines
from .runtime_env import prepare_runtime_env
from .text_line import PageReading, TextLine

_RUNTIME_PACKAGES = {"onnxruntime": "onnxruntime", "paddle": "paddlepaddle"}

# Every page gives recognition batches of another width, and ORT's arena and memory
# patterns keep a buffer for each shape they saw: measured with them on, RSS grew from
# ~760 to ~1,030 MB over six A4 pages and peaked at 2.3 GB on a 2-page PDF; off, it stays
# near 500 MB at no measurable cost in speed (bucket-ocr-bench, issue #5).
_ORT_MEMORY = {"enable_cpu_mem_arena": False, "enable_mem_pattern": False}

# The detection cap is a pixel budget: that of an A4-shaped page (1 : sqrt 2) whose long
# side is `det_limit_side_len`. Capping the long side alone shrank a 560x2950 till receipt
# 3x (22 px text to 7 px: 7.7 % CER against 1.0 % at 2000 px) and a 20000x40 strip of
# text to nothing, while memory, which the cap is for, follows the pixel count.
_A4_SHORT_OVER_LONG = 210 / 297


class OcrEngine:
    def __init__(self, config: EngineConfig):
        self._config = config
        self._lock = threading.Lock()
        self._bundle_dir = Path(config.models_dir) / config.bundle
        self._manifest = _load_manifest(self._bundle_dir, config.bundle)
        prepare_runtime_env(config.cache_dir)
        self._ocr = _create_paddleocr(self._bundle_dir, self._manifest, config)
        self._orienter = _load_orienter(self._bundle_dir, self._manifest, config)
        # Parallel sessions are an ONNX Runtime matter; Paddle's predictor keeps its own.
        self._recognition = (
            parallel_recognition.install(self._ocr, _rec_workers(config))
            if self._manifest.engine == "onnxruntime"
            else parallel_recognition.Recognition(workers=1)
        )

    def recognize(self, image: Image.Image) -> list[TextLine]:
        """OCR one page image; lines come back in reading order."""
        return self.read(image).lines

    def read(self, image: Image.Image) -> PageReading:
        """OCR one page image: its lines in reading order, each with its words.

        A page stored turned is read upright; its geometry comes back on the page as stored.
        """
        clock = time.perf_counter()
        orientation = self._orienter.classify(image) if self._orienter else None
        orientation_seconds = time.perf_counter() - clock
        rotation = orientation.rotation if orientation else 0
        page = upright(image, rotation)
        lines = self._read_upright(page)
        if rotation:
            lines = [_to_stored(line, rotation, image.width, image.height) for line in lines]
        return PageReading(
            lines=lines,
            rotation=rotation,
            orientation_confidence=orientation.confidence if orientation else None,
            orientation_seconds=orientation_seconds,
        )

    def _read_upright(self, image: Image.Image) -> list[TextLine]:
        pixels = bgr_pixels(image)
        height, width = pixels.shape[:2]
        limit = det_limit_for(width, height, self._config.det_limit_side_len)
        with self._lock:
            try:
                results = self._ocr.predict(
                    pixels, text_det_limit_type="max", text_det_limit_side_len=limit, return_word_box=True
                )
            except Exception as exc:  # Paddle raises bare RuntimeError/SystemError etc.
                raise EngineError(f"OCR inference failed on a {width}x{height} image: {exc}") from exc
        # Ordered upright: columns and rows are what a reader of the upright page sees.
        return page_lines(results, width, height)

    def describe(self) -> dict[str, Any]:
        runtime = _RUNTIME_PACKAGES[self._manifest.engine]
        return {
            "name": "paddleocr",
            "packages": {
                "paddleocr": _version("paddleocr"),
                "paddlex": _version("paddlex"),
                runtime: _version(runtime),
            },
            "bundle": self._manifest.bundle,
            "models": {
                "det": self._manifest.det.name,
                "rec": self._manifest.rec.name,
                **({"orientation": _orientation_model(self._manifest)} if self._orienter else {}),
            },
            "language": self._config.language,
            "settings": {
                "det_limit_side_len": self._config.det_limit_side_len,
                "rec_batch_size": self._config.rec_batch_size,
                **self._recognition.settings(),
                "det_limit_type": "pixels",
                "orientation": "auto" if self._orienter else "off",
                "cpu_threads": _cpu_threads(self._config),
                "engine": self._manifest.engine,
                **(_ORT_MEMORY if self._manifest.engine == "onnxruntime" else {}),
            },
        }


def _load_manifest(bundle_dir: Path, bundle: str) -> Manifest:
    try:
        manifest = read_manifest(bundle_dir)
        # Existence only: hashing ~30 MB on every cold start buys little; `verify` does it.
        check_files(bundle_dir, manifest, hashes=False)
    except BundleVerificationError as exc:
        raise EngineLoadError(f"model bundle {bundle!r} in {bundle_dir.parent} is not usable: {exc}") from exc
    if manifest.bundle != bundle:
        raise EngineLoadError(f"{bundle_dir} holds bundle {manifest.bundle!r}, not {bundle!r}")
    if manifest.engine not in _RUNTIME_PACKAGES:
        raise EngineLoadError(f"bundle {bundle!r} needs unsupported engine {manifest.engine!r}")
    return manifest


def _load_orienter(bundle_dir: Path, manifest: Manifest, config: EngineConfig) -> PageOrienter | None:
    if not config.orientation:
        return None
    orienter = PageOrienter.from_bundle(bundle_dir, manifest)
    if orienter is None:
        # Asked for and silently missing would read every turned page as garbage again.
        raise EngineLoadError(
            f"bundle {manifest.bundle!r} in {bundle_dir.parent} has no orientation model: rebuild it "
            "with `bucket-ocr-models build`, or set OCR_ORIENTATION=off"
        )
    return orienter


def _orientation_model(manifest: Manifest) -> str:
    entry = manifest.orientation
    return f"{entry.source_distribution} {entry.source_version}" if entry else "none"


def _to_stored(line: TextLine, rotation: int, width: int, height: int) -> TextLine:
    return replace(
        line,
        polygon=to_stored(line.polygon, rotation, width, height),
        words=tuple(replace(word, polygon=to_stored(word.polygon, rotation, width, height)) for word in line.words),
    )


def _cpu_threads(config: EngineConfig) -> int:
    if config.cpu_threads:
        return config.cpu_threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _rec_workers(config: EngineConfig) -> int:
    return config.rec_workers if config.rec_workers is not None else _cpu_threads(config)


def _create_paddleocr(bundle_dir: Path, manifest: Manifest, config: EngineConfig) -> Any:
    threads = _cpu_threads(config)
    options: dict[str, Any] = {
        "text_detection_model_name": manifest.det.name,
        "text_detection_model_dir": str(bundle_dir / manifest.det.dir),
        "text_recognition_model_name": manifest.rec.name,
        "text_recognition_model_dir": str(bundle_dir / manifest.rec.dir),
        # No models for these are baked, and each costs time per page.
        "use_doc_orientation_classify": False,
        "use_doc_unwarping": False,
        "use_textline_orientation": False,
        # "max" caps the long side; PaddleOCR's default ("min") upsizes, never downsizes.
        "text_det_limit_type": "max",
        "text_det_limit_side_len": config.det_limit_side_len,
        "text_recognition_batch_size": config.rec_batch_size,
        "device": "cpu",
    }
    if manifest.engine == "onnxruntime":
        options["engine"] = "onnxruntime"
        # PaddleOCR's cpu_threads only reaches the Paddle engine; ORT takes its own config.
        options["engine_config"] = {"intra_op_num_threads": threads, "inter_op_num_threads": 1, **_ORT_MEMORY}
    else:
        options["engine"] = "paddle_static"
        options["enable_mkldnn"] = True  # fast on paddlepaddle 3.2.2 (3.3.x crashes with it)
        options["cpu_threads"] = threads  # PaddleOCR's default of 10 oversubscribes small CPUs
    ignore_build_hints()
    try:
        from paddleocr import PaddleOCR
    except Exception as exc:  # ImportError, or Paddle's shared libraries failing as they load
        raise EngineLoadError(f"PaddleOCR cannot be imported to load bundle {manifest.bundle!r}: {exc}") from exc
    route_library_logs()
    try:
        return PaddleOCR(**options)
    except Exception as exc:  # bad model files, Paddle/ONNX Runtime's own untyped errors
        raise EngineLoadError(f"PaddleOCR could not load bundle {manifest.bundle!r} from {bundle_dir}: {exc}") from exc


def det_limit_for(width: int, height: int, side_len: int) -> int:
    """The long side detection gets for a page, so its area stays in the pixel budget."""
    budget = side_len * side_len * _A4_SHORT_OVER_LONG
    long_side = max(width, height)
    if width * height <= budget:
        return long_side
    return max(32, math.floor(long_side * math.sqrt(budget / (width * height))))


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
