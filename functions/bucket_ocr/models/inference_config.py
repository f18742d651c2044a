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

_DET_PREPROCESS = [
    {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
    {"DetLabelEncode": None},
    # The engine passes limit_side_len/limit_type explicitly; this is only the fallback.
    {"DetResizeForTest": {"resize_long": 960}},
    {
        "NormalizeImage": {
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
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

_REC_IMAGE_SHAPE = [3, 48, 320]

_REC_PREPROCESS = [
    {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
    {"MultiLabelEncode": {"gtc_encode": "NRTRLabelEncode"}},
    {"RecResizeImg": {"image_shape": _REC_IMAGE_SHAPE}},
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
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False, default_flow_style=False)
    # Round-trip now: a character YAML mangles would otherwise surface as garbled OCR.
    if yaml.safe_load(text) != config:
        raise ValueError("inference.yml does not survive a YAML round trip")
    return text.encode("utf-8")
