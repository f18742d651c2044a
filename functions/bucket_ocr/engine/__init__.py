"""OCR engine adapter: PaddleOCR over a model bundle built by `bucket-ocr-models`.

`OcrEngine` is what the function uses. `bgr_pixels`, `page_lines` and
`prepare_runtime_env` are the seam for a harness that runs a PaddleOCR pipeline of its
own (the benchmark): the same input, the same lines out, the same caches and offline
switches as the engine.
"""

from .config import EngineConfig
from .errors import EngineError, EngineLoadError
from .ocr_engine import OcrEngine
from .page_lines import bgr_pixels, page_lines
from .runtime_env import prepare_runtime_env
from .text_line import TextLine

__all__ = [
    "EngineConfig",
    "EngineError",
    "EngineLoadError",
    "OcrEngine",
    "TextLine",
    "bgr_pixels",
    "page_lines",
    "prepare_runtime_env",
]
