"""Offline builder for the PaddleOCR model bundles (`bucket-ocr-models`).

Kept import-light on purpose: the OCR engine imports the manifest reader from here at
cold start, and must not pay for onnxruntime or PyYAML until a build actually runs.
"""

from .bundles import BUNDLES, DEFAULT_BUNDLE, BundleSpec, get_bundle_spec
from .errors import (
    BundleBuildError,
    BundleVerificationError,
    ModelsError,
    ModelSourceNotFoundError,
    UnknownBundleError,
)
from .manifest import MANIFEST_NAME, Manifest, ModelEntry, OrientationEntry, read_manifest

__all__ = [
    "BUNDLES",
    "DEFAULT_BUNDLE",
    "MANIFEST_NAME",
    "BundleBuildError",
    "BundleSpec",
    "BundleVerificationError",
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


def build_bundle(*args, **kwargs):
    from .builder import build_bundle as _build_bundle

    return _build_bundle(*args, **kwargs)


def verify_bundle(*args, **kwargs):
    from .builder import verify_bundle as _verify_bundle

    return _verify_bundle(*args, **kwargs)
