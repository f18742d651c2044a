"""prepare_runtime_env: a PaddleX imported too early is reported as one structured warning."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bucket_ocr.engine import prepare_runtime_env
from bucket_ocr.observability import logger

WARNING = "paddlex was imported before the OCR engine set its cache dir"


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment prepare_runtime_env rewrites comes back as it was after the test."""
    saved = dict(os.environ)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def _paddlex_cache_module(cache_dir: Path) -> ModuleType:
    module = ModuleType("paddlex.utils.cache")
    module.__dict__["CACHE_DIR"] = str(cache_dir)  # as paddlex sets it at import
    return module


def _logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = logger.registered_handler.formatter
    assert formatter is not None
    return [json.loads(formatter.format(record)) for record in caplog.records if record.getMessage() == WARNING]


def test_a_paddlex_imported_with_another_cache_dir_is_one_json_warning(
    tmp_path: Path, isolated_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a PaddleX already imported, writing its cache under the user's home
    isolated_env.setitem(sys.modules, "paddlex.utils.cache", _paddlex_cache_module(Path("/root/.paddlex")))
    # when the engine points the caches at its own directory
    prepare_runtime_env(tmp_path)
    # then one warning says where PaddleX keeps writing, as fields of the function's JSON log line
    (warning,) = _logged(caplog)
    assert warning["level"] == "WARNING"
    assert warning["paddlex_cache_dir"] == "/root/.paddlex"
    assert warning["cache_dir"] == str(tmp_path)
    assert os.environ["PADDLE_PDX_CACHE_HOME"] == str(tmp_path / "paddlex")


def test_a_paddlex_imported_after_the_engine_set_its_cache_dir_is_not_reported(
    tmp_path: Path, isolated_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    isolated_env.setitem(sys.modules, "paddlex.utils.cache", _paddlex_cache_module(tmp_path / "paddlex"))
    prepare_runtime_env(tmp_path)
    assert _logged(caplog) == []
