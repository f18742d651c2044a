"""The test session's one models dir, for every tier that loads real models.

Every bundle is built into it once per session: in OCR_MODELS_DIR when that is set (where
`local/run test` has built the default bundle already, so building it again returns at
once unless its recipe changed), else in a session temp dir. The functional, fuzz and
integration conftests each import the fixture:
    from tests.support.models_fixture import built_models_dir  # noqa: F401  (session fixture)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bucket_ocr.models import BUNDLES, build_bundle

_MODELS_DIR = pytest.StashKey[Path]()


def models_dir_for_session(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Each conftest that imports the fixture defines its own copy, which pytest runs once
    # per tier; the session's stash makes that one build, whichever tier comes first.
    if _MODELS_DIR not in config.stash:
        dest = Path(os.environ.get("OCR_MODELS_DIR") or tmp_path_factory.mktemp("models"))
        for name in sorted(BUNDLES):
            build_bundle(name, dest)
        config.stash[_MODELS_DIR] = dest
    return config.stash[_MODELS_DIR]


@pytest.fixture(scope="session")
def built_models_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return models_dir_for_session(request.config, tmp_path_factory)
