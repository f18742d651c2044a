"""The function's engine, built from settings the way its cold start builds it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Settings.from_env insists on these; the bare runs never touch a bucket or queue.
PLACEHOLDER_ENV = {
    "OCR_RESULTS_BUCKET": "bench-results",
    "OCR_DEAD_LETTER_QUEUE_URL": "http://127.0.0.1:1/bench-dlq",
}


def function_settings(models_dir: Path, environ: Mapping[str, str]) -> Any:
    from bucket_ocr.settings import Settings

    return Settings.from_env({**PLACEHOLDER_ENV, **environ, "OCR_MODELS_DIR": str(models_dir)})


def load_function_engine(models_dir: Path, environ: Mapping[str, str]) -> Any:
    """Exactly `app.load_engine`: the engine sizes its thread pool from this process's CPU affinity."""
    from bucket_ocr.app import load_engine

    return load_engine(function_settings(models_dir, environ))
