"""Session fixture: every model bundle, built once per test session into a temp dir.

Import it from a conftest.py to make it available:
    from tests.support.models_fixture import built_models_dir  # noqa: F401
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bucket_ocr.models import BUNDLES, build_bundle


@pytest.fixture(scope="session")
def built_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("models")
    for name in sorted(BUNDLES):
        build_bundle(name, dest)
    return dest
