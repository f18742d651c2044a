"""The functional tier's moto stack and engine, for the fuzz tier's cases through the function.

Imported rather than copied, so both tiers build the function the same way. Only the
models differ: the functional tier builds every bundle into a temp dir (most of a
minute of quantising), while these cases run the default bundle alone, so they take it
from OCR_MODELS_DIR, where `local/run test` has built it already.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bucket_ocr.models import DEFAULT_BUNDLE, build_bundle
from tests.functional.conftest import engine, fresh_metrics, moto_stack, real_engine  # noqa: F401


@pytest.fixture(scope="session")
def built_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = Path(os.environ.get("OCR_MODELS_DIR") or tmp_path_factory.mktemp("models"))
    build_bundle(DEFAULT_BUNDLE, dest)  # returns at once when the bundle there is current
    return dest
