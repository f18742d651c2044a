"""Recognise a page's text lines on several single-threaded ONNX Runtime sessions at once.

One line is a small tensor: a session with 2 intra-op threads spends much of each call
synchronising them, and the pipeline's Python around each call (crop resize, decoding)
leaves the cores idle. Two sessions of 1 thread each, fed alternate lines of the
width-sorted list from two threads, measured ~25% faster recognition on a 50-line A4
page on 2 cores (issue #5). Each session is used by one thread only, so PaddleX's
predictors, which are not thread-safe, are never shared.

This reaches into PaddleX's OCR pipeline (pinned: paddlex 3.7.2): `PaddleOCR.predict`
runs `paddlex_pipeline._pipeline.predict`, which calls `self.text_rec_model(images,
**kwargs)` and iterates per-image results in order, the interface `ParallelRecognizer`
offers in its place. `install` checks each of those facts before it swaps anything, so a
PaddleX that moved them is detected instead of given an attribute nobody reads.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..observability import logger

# The pipeline attribute that holds the recogniser, and that its `predict` calls.
REC_ATTRIBUTE = "text_rec_model"

Predictor = Callable[..., Iterable[Any]]


class PipelineLayoutError(Exception):
    """PaddleX's OCR pipeline is not laid out as `install` expects (another PaddleX version)."""


@dataclass(frozen=True)
class Recognition:
    """How an engine recognises lines: on how many sessions, and why not in parallel."""

    workers: int
    # Set when parallel recognition was asked for but PaddleX's pipeline did not allow it.
    fallback: str | None = None

    def settings(self) -> dict[str, Any]:
        """The engine's `describe()` settings for recognition."""
        described: dict[str, Any] = {"rec_workers": self.workers, "parallel_recognition": self.workers > 1}
        if self.fallback:
            described["parallel_recognition_fallback"] = self.fallback
        return described


class ParallelRecognizer:
    def __init__(self, predictors: Sequence[Predictor]):
        if not predictors:
            raise ValueError("at least one recognition predictor is needed")
        self._predictors = list(predictors)
        self._pool = ThreadPoolExecutor(len(self._predictors), thread_name_prefix="ocr-rec")

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


def _predict_all(predictor: Predictor, images: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    return list(predictor(images, **kwargs))


def install(paddleocr: Any, workers: int) -> Recognition:
    """Swap the pipeline's recogniser for `workers` single-threaded ones.

    When PaddleX's pipeline is not as expected, lines are recognised by the pipeline's own
    recogniser, one session at a time, with a warning, and the returned `Recognition`
    says why (it reaches the engine's `describe()`, so every result shows it). Not an
    error: the text read is the same, only recognition is slower (~25%), and refusing to
    load would stop all OCR after a PaddleX upgrade for the sake of speed. The real-OCR
    test that counts the replacement's calls fails on such an upgrade instead.
    """
    if workers < 2:
        return Recognition(workers=1)
    try:
        pipeline = _ocr_pipeline(paddleocr)
        rec_config = dict(paddleocr._merged_paddlex_config["SubModules"]["TextRecognition"])
        # The per-model engine_config is merged over the pipeline's (intra-op threads = CPUs).
        rec_config["engine_config"] = {**(rec_config.get("engine_config") or {}), "intra_op_num_threads": 1}
        # Concurrently: ONNX Runtime builds sessions without the GIL, and this is cold start.
        with ThreadPoolExecutor(workers) as pool:
            predictors = list(
                pool.map(lambda _: pipeline.create_model(rec_config, input_shape=pipeline.input_shape), range(workers))
            )
        _swap(pipeline, ParallelRecognizer(predictors))
    except (PipelineLayoutError, AttributeError, KeyError, TypeError) as error:
        reason = f"PaddleX's OCR pipeline is not as expected: {error}"
        logger.warning(
            "recognising lines one at a time",
            extra={"reason": reason, "rec_workers": workers},
        )
        return Recognition(workers=1, fallback=reason)
    return Recognition(workers=workers)


def _ocr_pipeline(paddleocr: Any) -> Any:
    """The pipeline object whose `predict` PaddleOCR runs, checked to call `REC_ATTRIBUTE`."""
    wrapper = paddleocr.paddlex_pipeline
    # Static lookup: the wrapper's __getattr__ forwards to `_pipeline`, and so would
    # recurse without end when it is missing (multi-device pipelines have none).
    pipeline = inspect.getattr_static(wrapper, "_pipeline", None)
    if pipeline is None:
        raise PipelineLayoutError(f"{type(wrapper).__name__} holds no single _pipeline")
    _check_reads(type(wrapper), "predict", "_pipeline")
    if REC_ATTRIBUTE not in vars(pipeline):
        raise PipelineLayoutError(f"{type(pipeline).__name__} has no attribute {REC_ATTRIBUTE!r}")
    _check_reads(type(pipeline), "predict", REC_ATTRIBUTE)
    return pipeline


def _check_reads(cls: type, method: str, attribute: str) -> None:
    """Fail unless `cls.method`'s own code reads `self.<attribute>`."""
    function = inspect.unwrap(getattr(cls, method))
    if attribute not in function.__code__.co_names:
        raise PipelineLayoutError(f"{cls.__name__}.{method} does not read {attribute!r}")


def _swap(pipeline: Any, replacement: ParallelRecognizer) -> None:
    """Assign the replacement, and check the pipeline now holds it.

    The layout check sees a plain instance attribute, but a `__setattr__` or a property of
    the same name may still store something else (a wrapper, or nothing): then the original
    goes back, so the pipeline reads with its own recogniser, as the fallback says.
    """
    original = getattr(pipeline, REC_ATTRIBUTE)
    setattr(pipeline, REC_ATTRIBUTE, replacement)
    if getattr(pipeline, REC_ATTRIBUTE) is not replacement:
        setattr(pipeline, REC_ATTRIBUTE, original)
        raise PipelineLayoutError(f"{type(pipeline).__name__}.{REC_ATTRIBUTE} cannot be replaced")
