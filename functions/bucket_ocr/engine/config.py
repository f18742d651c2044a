"""Settings for one OcrEngine instance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..models.bundles import DEFAULT_BUNDLE


@dataclass(frozen=True)
class EngineConfig:
    models_dir: Path  # root written by `bucket-ocr-models build --dest`
    bundle: str = DEFAULT_BUNDLE
    language: str = "en"  # informational: the bundle's rec model fixes the charset
    # Detection input is capped to the pixels of an A4-shaped page with this long side;
    # larger pages are downscaled first. 960 keeps A4 at 150-200 DPI legible while
    # cutting detection time by ~a third.
    det_limit_side_len: int = 960
    # Classify each page's orientation (0/90/180/270) and read it upright; needs a bundle
    # built with the orientation model (older bundles read pages as they are).
    orientation: bool = True
    # Lines recognised per ONNX Runtime call. Batches are padded to their widest line and
    # run slower per line on 2 threads than single lines do: 1 measured ~15% faster than
    # PaddleX's 6 on the int8 bundle, and keeps no padded batch in memory.
    rec_batch_size: int = 1
    # Single-threaded recognition sessions fed lines in parallel (ONNX bundles); None:
    # one per CPU. See parallel_recognition.
    rec_workers: int | None = None
    # HOME (when unwritable), PADDLE_PDX_CACHE_HOME, XDG caches and TMPDIR go under here;
    # on Lambda only /tmp is writable.
    cache_dir: Path = Path("/tmp/bucket-ocr")
    cpu_threads: int | None = None  # None: every CPU this process may run on
