"""OCR engine adapter: PaddleOCR over a model bundle built by `bucket-ocr-models`."""

from .config import EngineConfig
from .errors import EngineError, EngineLoadError
from .ocr_engine import OcrEngine
from .text_line import TextLine

__all__ = ["EngineConfig", "EngineError", "EngineLoadError", "OcrEngine", "TextLine"]
