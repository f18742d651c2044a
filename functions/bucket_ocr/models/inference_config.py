"""The `inference.yml` PaddleX needs next to a model file before it will load a directory.

PaddleX reads `Global.model_name` (must equal the name PaddleOCR is given), the
`PreProcess.transform_ops` it maps onto its own operators, and `PostProcess`. The content
mirrors the official PP-OCR exports (and PaddleX's own inference_meta for PP-OCRv6), so
the models see the same preprocessing they were trained with: images in BGR, ImageNet
mean/std, rec height 48.
"""

from __future__ import annotations

from typing import Any

import yaml

# What the models were trained on, and so what PaddleX feeds them. The optimiser's
# calibration (optimise/calibration.py) and text-height step preprocess with these too.
DET_MEAN = (0.485, 0.456, 0.406)  # per channel, of pixels scaled to 0..1
DET_STD = (0.229, 0.224, 0.225)
DET_RESIZE_LONG = 960  # fallback only: the engine passes limit_side_len/limit_type itself
REC_IMAGE_SHAPE = (3, 48, 320)  # channels, line height, narrowest line width
# PaddleX normalises rec input to (x / 255 - mean) / std itself, not from inference.yml.
REC_MEAN = 0.5
REC_STD = 0.5

_DET_PREPROCESS = [
    {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
    {"DetLabelEncode": None},
    {"DetResizeForTest": {"resize_long": DET_RESIZE_LONG}},
    {
        "NormalizeImage": {
            "mean": list(DET_MEAN),
            "std": list(DET_STD),
            "scale": "1./255.",
            "order": "hwc",
        }
    },
    {"ToCHWImage": None},
    {"KeepKeys": {"keep_keys": ["image", "shape", "polys", "ignore_tags"]}},
]

_DB_POSTPROCESS = {
    "name": "DBPostProcess",
    "thresh": 0.3,
    "box_thresh": 0.6,
    "max_candidates": 1000,
    "unclip_ratio": 1.5,
}

_REC_PREPROCESS = [
    {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
    {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
    {"RecResizeImg": {"image_shape": list(REC_IMAGE_SHAPE)}},
    {"KeepKeys": {"keep_keys": ["image", "label_ctc", "label_gtc", "length", "valid_ratio"]}},
]


def detection_config(model_name: str) -> dict[str, Any]:
    return {
        "Global": {"model_name": model_name},
        "PreProcess": {"transform_ops": _DET_PREPROCESS},
        "PostProcess": dict(_DB_POSTPROCESS),
    }


def recognition_config(model_name: str, characters: list[str]) -> dict[str, Any]:
    return {
        "Global": {"model_name": model_name},
        "PreProcess": {"transform_ops": _REC_PREPROCESS},
        "PostProcess": {"name": "CTCLabelDecode", "character_dict": list(characters)},
    }


def render_yaml(config: dict[str, Any]) -> bytes:
    """Deterministic bytes, so a rebuild from the same wheel hashes identically."""
    text: str = yaml.safe_dump(config, allow_unicode=True, sort_keys=False, default_flow_style=False)
    # Round-trip now: a character YAML mangles would otherwise surface as garbled OCR.
    if yaml.safe_load(text) != config:
        raise ValueError("inference.yml does not survive a YAML round trip")
    return text.encode("utf-8")
