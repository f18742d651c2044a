"""Functional tier: moto in memory for S3 and SQS, the real engine and real models.

The engine is the expensive part, so one is loaded per session and shared; every test
gets its own moto world, buckets with unique names, and an app built around that engine.
"""

from __future__ import annotations

import pytest

from bucket_ocr.engine import EngineConfig, OcrEngine
from tests.support.moto_app import fresh_metrics, moto_stack  # noqa: F401  (fixtures: pytest finds them by name here)


class CountingEngine:
    """The real engine, with a count of pages it was asked to read."""

    def __init__(self, engine: OcrEngine):
        self._engine = engine
        self.pages_read = 0

    def read(self, image):
        self.pages_read += 1
        return self._engine.read(image)

    def describe(self):
        return self._engine.describe()


@pytest.fixture(scope="session")
def real_engine(built_models_dir, tmp_path_factory):
    return OcrEngine(EngineConfig(models_dir=built_models_dir, cache_dir=tmp_path_factory.mktemp("engine-cache")))


@pytest.fixture
def engine(real_engine):
    return CountingEngine(real_engine)
