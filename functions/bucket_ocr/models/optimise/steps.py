"""The optimisation steps, in order, applied to the ONNX files copied from a bundle's wheel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx

from ..bundles import Optimisation
from ..errors import BundleBuildError, GeluFusionCountError
from .calibration import calibration_set
from .charset_head import kept_classes, slice_head
from .gelu import fuse_gelu
from .quantize import after_last, named, quantize_int8
from .text_height import NODE_PREFIX, insert_text_height

_CALIBRATION_SEED = 1729
_CALIBRATION_PAGES = 6
_CALIBRATION_LINES = 100


@dataclass(frozen=True)
class OptimisedModels:
    det: bytes
    rec: bytes
    characters: list[str]


def optimise_bundle_models(
    det_path: Path, rec_path: Path, characters: Sequence[str], optimisation: Optimisation
) -> OptimisedModels:
    det, rec = _load(det_path), _load(rec_path)
    classes, kept = kept_classes(characters, optimisation.charset)
    # +2: CTC blank in front, space after the dictionary.
    slice_head(rec, classes, expected_classes=len(characters) + 2)
    insert_text_height(rec, optimisation.rec_text_height)
    if optimisation.int8:
        # Recognition only: fusing detection's GELUs measured no faster, and its
        # recalibration cost a few hundredths of a percent of CER.
        _fuse_gelu(rec, rec_path, optimisation.rec_gelu_fusions)
        samples = calibration_set(
            pages=_CALIBRATION_PAGES,
            lines=_CALIBRATION_LINES,
            det_limit_side_len=optimisation.calibration_det_limit_side_len,
            seed=_CALIBRATION_SEED,
        )
        # Detection: the head after the last FPN concat stays float (box edges).
        det = quantize_int8(det, samples.det, after_last("Concat"))
        # Recognition: the backbone (up to its last pooling before the attention neck) is
        # int8; the neck and CTC head stay float, where int8 lost spaces between words.
        rec_float = [after_last("AveragePool", before="MatMul"), named(NODE_PREFIX)]
        rec = quantize_int8(rec, samples.rec, lambda model: [n for select in rec_float for n in select(model)])
    return OptimisedModels(det=_serialise(det), rec=_serialise(rec), characters=kept)


def _fuse_gelu(rec: onnx.ModelProto, rec_path: Path, expected: int) -> None:
    # A GELU the pattern misses stays in pieces that int8 then splits: slower, and the
    # only sign of it would be the benchmark's seconds.
    fused = fuse_gelu(rec)
    if fused != expected:
        raise GeluFusionCountError(
            f"fused {fused} erf-GELUs in {rec_path}, expected {expected}: the recognition model "
            "is not the export the optimisation was measured on"
        )


def _load(path: Path) -> onnx.ModelProto:
    try:
        return onnx.load(path)
    except Exception as exc:  # onnx raises DecodeError and friends
        raise BundleBuildError(f"cannot read ONNX model {path}: {exc}") from exc


def _serialise(model: onnx.ModelProto) -> bytes:
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise BundleBuildError(f"optimised model is not valid ONNX: {exc}") from exc
    data: bytes = model.SerializeToString()
    return data
