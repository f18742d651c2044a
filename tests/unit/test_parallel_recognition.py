"""ParallelRecognizer: shares lines out to predictors and puts results back in order."""

from __future__ import annotations

import threading

import pytest

from bucket_ocr.engine.parallel_recognition import ParallelRecognizer


class _Predictor:
    """Stands in for a PaddleX predictor: yields one result per image, in order."""

    def __init__(self, name: str, together: threading.Barrier | None = None):
        self.name = name
        self.together = together
        self.threads: set[str] = set()
        self.calls: list[list[str]] = []

    def __call__(self, images, **kwargs):
        self.threads.add(threading.current_thread().name)
        if self.together is not None:
            self.together.wait(timeout=5)  # breaks unless the other predictor runs meanwhile
        self.calls.append(list(images))
        for image in images:
            yield {"image": image, "by": self.name, **kwargs}


def test_results_come_back_in_input_order_with_alternate_lines_per_predictor() -> None:
    # given two predictors that only proceed when both run at once, and five sorted lines
    together = threading.Barrier(2)
    first, second = _Predictor("a", together), _Predictor("b", together)
    recognizer = ParallelRecognizer([first, second])
    lines = ["l0", "l1", "l2", "l3", "l4"]
    # when recognised
    results = recognizer(lines, return_word_box=False)
    # then each line's result is at its own index, with the caller's keyword arguments
    assert [r["image"] for r in results] == lines
    assert all(r["return_word_box"] is False for r in results)
    # and the predictors took alternate lines, concurrently, on two pool threads
    assert first.calls == [["l0", "l2", "l4"]] and second.calls == [["l1", "l3"]]
    assert len(first.threads | second.threads) == 2
    assert "MainThread" not in first.threads | second.threads


def test_fewer_lines_than_predictors_and_no_lines_are_fine() -> None:
    recognizer = ParallelRecognizer([_Predictor("a"), _Predictor("b"), _Predictor("c")])
    assert [r["image"] for r in recognizer(["only"])] == ["only"]
    assert recognizer([]) == []


def test_a_predictor_failure_reaches_the_caller() -> None:
    class _Broken(_Predictor):
        def __call__(self, images, **kwargs):
            raise RuntimeError("onnxruntime failed")

    recognizer = ParallelRecognizer([_Predictor("a"), _Broken("b")])
    with pytest.raises(RuntimeError, match="onnxruntime failed"):
        recognizer(["x", "y"])


def test_no_predictor_is_refused() -> None:
    with pytest.raises(ValueError):
        ParallelRecognizer([])
