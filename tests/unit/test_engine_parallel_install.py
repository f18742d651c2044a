"""parallel_recognition.install: swaps PaddleX's recogniser only where the pipeline calls it.

The fakes copy the layout of PaddleX 3.7's OCR pipeline that `install` relies on: a
wrapper whose `predict` runs `_pipeline.predict` (and whose __getattr__ forwards to
`_pipeline`), and a pipeline whose `predict` calls `self.text_rec_model(lines, ...)`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bucket_ocr.engine.parallel_recognition import Recognition, install
from bucket_ocr.observability import logger


class _Predictor:
    def __init__(self, name: str):
        self.name = name
        self.lines: list[str] = []

    def __call__(self, lines: list[str], **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.lines.extend(lines)
        for line in lines:
            yield {"line": line, "by": self.name}


class _Pipeline:
    """PaddleX's `_OCRPipeline`, as far as install uses it."""

    input_shape = None

    def __init__(self) -> None:
        self.text_rec_model = _Predictor("pipeline's own")
        self.created: list[dict[str, Any]] = []

    def create_model(self, config: dict[str, Any], input_shape: Any = None) -> _Predictor:
        self.created.append(config)
        return _Predictor(f"created {len(self.created)}")

    def predict(self, lines: list[str]) -> list[dict[str, Any]]:
        return list(self.text_rec_model(lines, return_word_box=True))


class _RenamedPipeline(_Pipeline):
    """A PaddleX that renamed the recogniser: `text_rec_model` no longer exists."""

    def __init__(self) -> None:
        super().__init__()
        self.text_recognition_model = self.__dict__.pop("text_rec_model")

    def predict(self, lines: list[str]) -> list[dict[str, Any]]:
        return list(self.text_recognition_model(lines, return_word_box=True))


class _PredictByHelperPipeline(_Pipeline):
    """A PaddleX whose `predict` keeps the attribute but reads the recogniser elsewhere."""

    def __init__(self) -> None:
        super().__init__()
        self.recognise = self.text_rec_model

    def predict(self, lines: list[str]) -> list[dict[str, Any]]:
        return list(self.recognise(lines, return_word_box=True))


class _Wrapper:
    """PaddleX's AutoParallelSimpleInferencePipeline."""

    def __init__(self, pipeline: _Pipeline | None):
        if pipeline is not None:
            self._pipeline = pipeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipeline, name)

    def predict(self, lines: list[str]) -> list[dict[str, Any]]:
        return self._pipeline.predict(lines)


class _PaddleOcr:
    def __init__(self, pipeline: _Pipeline | None):
        self.paddlex_pipeline = _Wrapper(pipeline)
        self._merged_paddlex_config = {"SubModules": {"TextRecognition": {"model_name": "rec"}}}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The warnings logged, as the function's JSON log lines carry them."""
    formatter = logger.registered_handler.formatter
    assert formatter is not None
    return [json.loads(formatter.format(record)) for record in caplog.records if record.levelno == logging.WARNING]


def test_the_pipeline_calls_the_parallel_recogniser_once_installed(caplog: pytest.LogCaptureFixture) -> None:
    # given PaddleX's pipeline as 3.7 lays it out
    pipeline = _Pipeline()
    ocr = _PaddleOcr(pipeline)
    # when two workers are installed
    recognition = install(ocr, 2)
    # then the pipeline's predict reads its lines on the two single-threaded predictors
    assert recognition == Recognition(workers=2)
    assert [config["engine_config"] for config in pipeline.created] == [{"intra_op_num_threads": 1}] * 2
    results = ocr.paddlex_pipeline.predict(["l0", "l1", "l2"])
    assert [(r["line"], r["by"]) for r in results] == [("l0", "created 1"), ("l1", "created 2"), ("l2", "created 1")]
    assert pipeline.__dict__.get("recognise") is None
    assert recognition.settings() == {"rec_workers": 2, "parallel_recognition": True}
    assert _warnings(caplog) == []


@pytest.mark.parametrize(
    ("pipeline", "missing"),
    [
        (_RenamedPipeline(), "has no attribute 'text_rec_model'"),
        (_PredictByHelperPipeline(), "predict does not read 'text_rec_model'"),
        (None, "holds no single _pipeline"),
    ],
    ids=["recogniser renamed", "predict reads another attribute", "no single pipeline"],
)
def test_a_pipeline_not_laid_out_as_expected_keeps_its_recogniser_warns_and_says_so(
    pipeline: _Pipeline | None, missing: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a PaddleX whose OCR pipeline moved what install relies on
    ocr = _PaddleOcr(pipeline)
    # when two workers are asked for
    recognition = install(ocr, 2)
    # then lines are read one at a time by the pipeline's own recogniser, and nothing was swapped
    assert recognition.workers == 1
    assert recognition.fallback is not None and missing in recognition.fallback
    if pipeline is not None:
        assert pipeline.created == []
        assert "text_rec_model" not in vars(pipeline) or isinstance(pipeline.text_rec_model, _Predictor)
        assert [r["by"] for r in ocr.paddlex_pipeline.predict(["l0", "l1"])] == ["pipeline's own"] * 2
    # and the description every result carries says so, with the reason
    assert recognition.settings() == {
        "rec_workers": 1,
        "parallel_recognition": False,
        "parallel_recognition_fallback": recognition.fallback,
    }
    # and one structured warning names the reason
    (warning,) = _warnings(caplog)
    assert warning["message"] == "recognising lines one at a time"
    assert warning["reason"] == recognition.fallback
    assert warning["rec_workers"] == 2


class _Traced:
    """A recogniser as a pipeline that wraps what it is given holds it."""

    def __init__(self, inner: _Predictor):
        self.inner = inner

    def __call__(self, lines: list[str], **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self.inner(lines, **kwargs)


class _WrappingPipeline(_Pipeline):
    """A PaddleX laid out as 3.7, except that its pipeline wraps every recogniser assigned to it."""

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, _Traced(value) if name == "text_rec_model" else value)


def test_a_pipeline_that_does_not_hold_the_replacement_reads_with_its_own_recogniser(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a pipeline that passes the layout check but wraps what is assigned to its recogniser
    pipeline = _WrappingPipeline()
    ocr = _PaddleOcr(pipeline)
    # when two workers are installed
    recognition = install(ocr, 2)
    # then install falls back, and says why
    assert recognition.workers == 1
    assert recognition.fallback is not None and "text_rec_model cannot be replaced" in recognition.fallback
    (warning,) = _warnings(caplog)
    assert warning["reason"] == recognition.fallback
    # and the pipeline reads with its own recogniser again, not with the parallel one it was given
    assert [r["by"] for r in ocr.paddlex_pipeline.predict(["l0", "l1"])] == ["pipeline's own"] * 2


def test_one_worker_leaves_the_pipeline_alone_without_a_fallback(caplog: pytest.LogCaptureFixture) -> None:
    pipeline = _Pipeline()
    recognition = install(_PaddleOcr(pipeline), 1)
    assert recognition == Recognition(workers=1)
    assert recognition.settings() == {"rec_workers": 1, "parallel_recognition": False}
    assert pipeline.created == []
    assert _warnings(caplog) == []
