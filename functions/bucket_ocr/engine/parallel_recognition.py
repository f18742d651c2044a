"""Recognise a page's text lines on several single-threaded ONNX Runtime sessions at once.

One line is a small tensor: a session with 2 intra-op threads spends much of each call
synchronising them, and the pipeline's Python around each call (crop resize, decoding)
leaves the cores idle. Two sessions of 1 thread each, fed alternate lines of the
width-sorted list from two threads, measured ~25% faster recognition on a 50-line A4
page on 2 cores (issue #5). Each session is used by one thread only, so PaddleX's
predictors, which are not thread-safe, are never shared.

This reaches into PaddleX's OCR pipeline (pinned: paddlex 3.7.2): the pipeline calls
`text_rec_model(images, **kwargs)` and iterates per-image results in order, which is the
interface `ParallelRecognizer` offers in its place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

logger = logging.getLogger(__name__)


class ParallelRecognizer:
    def __init__(self, predictors: Sequence[Any]):
        if not predictors:
            raise ValueError("at least one recognition predictor is needed")
        self._predictors = list(predictors)
        self._pool = ThreadPoolExecutor(len(self._predictors), thread_name_prefix="ocr-rec")

    @property
    def workers(self) -> int:
        return len(self._predictors)

    def __call__(self, images: Sequence[Any], **kwargs: Any) -> list[Any]:
        count = len(self._predictors)
        # Alternate lines: the list comes sorted by width, so each share gets as much work.
        shares = [list(images[start::count]) for start in range(count)]
        futures = [
            self._pool.submit(_predict_all, predictor, share, kwargs)
            for predictor, share in zip(self._predictors, shares, strict=True)
            if share
        ]
        merged: list[Any] = [None] * len(images)
        for start, future in enumerate(futures):
            merged[start::count] = future.result()
        return merged


def _predict_all(predictor: Any, images: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    return list(predictor(images, **kwargs))


def install(paddleocr: Any, workers: int) -> int:
    """Swap the pipeline's recogniser for `workers` single-threaded ones; returns how many
    recognise in parallel (1 when PaddleX's internals are not as expected)."""
    if workers < 2:
        return 1
    try:
        pipeline = paddleocr.paddlex_pipeline._pipeline
        rec_config = dict(paddleocr._merged_paddlex_config["SubModules"]["TextRecognition"])
        # The per-model engine_config is merged over the pipeline's (intra-op threads = CPUs).
        rec_config["engine_config"] = {**(rec_config.get("engine_config") or {}), "intra_op_num_threads": 1}
        # Concurrently: ONNX Runtime builds sessions without the GIL, and this is cold start.
        with ThreadPoolExecutor(workers) as pool:
            predictors = list(
                pool.map(lambda _: pipeline.create_model(rec_config, input_shape=pipeline.input_shape), range(workers))
            )
    except (AttributeError, KeyError, TypeError) as error:
        logger.warning("recognising lines one at a time: PaddleX's OCR pipeline is not as expected (%r)", error)
        return 1
    pipeline.text_rec_model = ParallelRecognizer(predictors)
    return workers
