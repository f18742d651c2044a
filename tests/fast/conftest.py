"""Fast tier: the function's app and processing on moto in memory, with a fake engine.

Everything the function does around OCR (routing, duplicates, dead letters and failed
results, outputs, transient against permanent failures) without loading a model: the
same stack as the functional tier's (tests/support/moto_app.py), around ``FakeEngine``
instead of the real engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import botocore.loaders
import botocore.retries.standard
import pytest

from tests.support.fake_engine import FakeEngine
from tests.support.moto_app import fresh_metrics, moto_stack  # noqa: F401  (fixtures: pytest finds them by name here)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def built_models_dir(tmp_path: Path) -> Path:
    """The fake engine needs no models: the settings only name the directory."""
    return tmp_path


@pytest.fixture(scope="session")
def service_model_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


@pytest.fixture(autouse=True)
def one_service_model_loader(service_model_loader: botocore.loaders.Loader) -> Iterator[None]:
    """boto3 reads each service's JSON model anew for every session, and the app makes its
    own session per test: most of a second a test. One loader for the tier reads them once;
    patched per test, so no other tier runs with it."""
    with mock.patch("botocore.session.create_loader", return_value=service_model_loader):
        yield


@pytest.fixture(autouse=True)
def retries_without_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore still retries a throttled request as often, without waiting between tries:
    its backoff is not under test, and would cost seconds a test."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
