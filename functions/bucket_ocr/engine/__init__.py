"""OCR engine adapter: PaddleOCR over a model bundle built by `bucket-ocr-models`.

`OcrEngine` is what the function uses. `bgr_pixels`, `page_lines` and
`prepare_runtime_env` are the seam for a harness that runs a PaddleOCR pipeline of its
own (the benchmark): the same input, the same lines out, the same caches and offline
switches as the engine.

Names are imported on first use (PEP 562): `processing` needs only `errors`, and an
eager package would load numpy and the engine's modules into every process that
imports it, the fast test tier included, for nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import EngineConfig
    from .errors import EngineError, EngineLoadError
    from .ocr_engine import OcrEngine
    from .pipeline_io import bgr_pixels, page_lines
    from .runtime_env import prepare_runtime_env
    from .text_line import TextLine

# Each public name, and the submodule that defines it.
_SOURCES = {
    "EngineConfig": "config",
    "EngineError": "errors",
    "EngineLoadError": "errors",
    "OcrEngine": "ocr_engine",
    "TextLine": "text_line",
    "bgr_pixels": "pipeline_io",
    "page_lines": "pipeline_io",
    "prepare_runtime_env": "runtime_env",
}

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


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{source}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
