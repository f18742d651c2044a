"""What decides an optimised bundle's bytes besides its settings and source models.

Both go into the bundle's recipe, so `bucket-ocr-models build` rebuilds when either
changes, rather than trusting a version number someone has to remember to bump: the
optimiser's own files (code, calibration text and font, the preprocessing constants it
shares with inference.yml), and the versions of what it computes with.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from pathlib import Path

from ..errors import BundleBuildError
from ..manifest import sha256_file

MODELS_DIR = Path(__file__).resolve().parents[1]
# Relative to MODELS_DIR. The READMEs and __pycache__ are left out: they change no byte.
OPTIMISER_FILES = (
    "optimise/*.py",
    "optimise/calibration_data/*.txt",
    "optimise/calibration_data/*.ttf",
    "inference_config.py",
)
# Distributions whose upgrade can change the optimised models: onnx writes them,
# onnxruntime's quantiser computes them, Pillow renders the calibration pages (with the
# FreeType it bundles) and numpy draws their noise and preprocesses them.
TOOLCHAIN = ("numpy", "onnx", "onnxruntime", "pillow")


def optimiser_digest(models_dir: Path = MODELS_DIR) -> str:
    digest = hashlib.sha256()
    files = sorted({path for pattern in OPTIMISER_FILES for path in models_dir.glob(pattern) if path.is_file()})
    for path in files:
        digest.update(path.relative_to(models_dir).as_posix().encode() + b"\0")
        digest.update(bytes.fromhex(sha256_file(path)))
    return digest.hexdigest()


def toolchain_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for distribution in TOOLCHAIN:
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError as exc:
            raise BundleBuildError(
                f"{distribution} is not installed; the optimiser needs it: pip install 'bucket-ocr[models]'"
            ) from exc
    return versions
