"""Rewrite a bundle's ONNX models for speed on CPU, at build time and offline.

Three measured steps (bucket-ocr-bench, issue #5), each kept because accuracy held:
- `charset_head`: the recognition head keeps only the classes of one script. PP-OCRv6
  scores 18,710 classes (mostly CJK) for every time step; for Latin text, 620 do.
- `text_height`: lines are read at a smaller text height inside the model's fixed
  48-pixel input, which shortens every line's width and so the recognition work.
- `gelu` then `quantize`: int8 weights and activations, calibrated on pages rendered from
  the text and font in `calibration_data/`, for the detection network and the recognition
  backbone; the recognition neck and head stay float, where int8 cost the spaces between
  words.
`steps` applies them in order; `provenance` says what else their output depends on.
Needs the `onnx` package (the `models` extra); the function's runtime never imports this.
"""

from .provenance import optimiser_digest, toolchain_versions
from .steps import optimise_bundle_models

__all__ = ["optimise_bundle_models", "optimiser_digest", "toolchain_versions"]
