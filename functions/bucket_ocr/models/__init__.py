"""Offline builder for the PaddleOCR model bundles (`bucket-ocr-models`).

Kept import-light on purpose: the OCR engine imports the manifest reader from here at
cold start, and must not pay for onnxruntime or PyYAML until a build actually runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .bundles import BUNDLES, DEFAULT_BUNDLE, BundleSpec, get_bundle_spec
from .errors import (
    BundleBuildError,
    BundleVerificationError,
    GeluFusionCountError,
    ModelsError,
    ModelSourceNotFoundError,
    UnknownBundleError,
)
from .manifest import MANIFEST_NAME, Manifest, ModelEntry, OrientationEntry, read_manifest

if TYPE_CHECKING:
    from .builder import BuildResult

__all__ = [
    "BUNDLES",
    "DEFAULT_BUNDLE",
    "MANIFEST_NAME",
    "BundleBuildError",
    "BundleSpec",
    "BundleVerificationError",
    "GeluFusionCountError",
    "Manifest",
    "ModelEntry",
    "ModelSourceNotFoundError",
    "ModelsError",
    "OrientationEntry",
    "UnknownBundleError",
    "build_bundle",
    "get_bundle_spec",
    "read_manifest",
    "verify_bundle",
]


def build_bundle(name: str, dest: Path, *, source_root: Path | None = None, force: bool = False) -> BuildResult:
    from .builder import build_bundle as _build_bundle

    return _build_bundle(name, dest, source_root=source_root, force=force)


def verify_bundle(name: str, dest: Path) -> Manifest:
    from .builder import verify_bundle as _verify_bundle

    return _verify_bundle(name, dest)
