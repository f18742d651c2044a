"""Cost and target verdicts: arithmetic from measured figures, never hard-coded ones."""

from __future__ import annotations

import pytest

from bucket_ocr_bench.cost import cost_per_1000_pages
from bucket_ocr_bench.page_runs import PageFigure
from bucket_ocr_bench.summary import aggregate, function_overhead, judge


def _figure(path: str, page: str, total: float, ocr: float, cer: float = 0.0) -> PageFigure:
    return PageFigure("bucket-ocr", page, path, None, 0.01, ocr, total, None, cer, cer, 1000)


def test_cost_follows_lambda_prices_for_seconds_and_memory() -> None:
    # given 1 s per page at 1024 MB: 1,000 GB-seconds and 1,000 requests
    cost = cost_per_1000_pages(1.0, 1024)
    assert cost["compute_usd"] == pytest.approx(0.0166667)
    assert cost["requests_usd"] == pytest.approx(0.0002)
    assert cost["usd_per_1000_pages"] == pytest.approx(0.0168667)
    assert "0.0000166667" in str(cost["prices"]) or "1.66667e-05" in str(cost["prices"])


def test_overhead_is_function_time_over_decode_and_ocr_in_the_same_invocation() -> None:
    # given two function runs, each decoding for 0.01 s, and one bare run
    figures = [_figure("engine", "a", 2.0, 1.9), _figure("function", "a", 2.1, 2.0), _figure("function", "b", 4.2, 4.0)]
    overhead = function_overhead(figures, "bucket-ocr")
    # then the engine's work is decode + OCR, as in the bare rows; OCR alone is reported too
    assert overhead["ratio"] == pytest.approx(6.3 / 6.02)
    assert overhead["overhead_percent"] == pytest.approx(100 * (6.3 / 6.02 - 1))
    assert overhead["ocr_only_ratio"] == pytest.approx(6.3 / 6.0)
    assert overhead["paired_ratio"] == pytest.approx(2.1 / 2.0)


def test_aggregate_splits_bare_and_function_runs_and_takes_medians() -> None:
    figures = [_figure("engine", p, t, t, c) for p, t, c in (("a", 1.0, 0.0), ("b", 3.0, 0.02), ("c", 2.0, 0.01))]
    figures.append(_figure("function", "a", 5.0, 4.0))
    stats = aggregate(figures)
    assert set(stats) == {"bucket-ocr", "bucket-ocr (function path)"}
    assert stats["bucket-ocr"]["median_seconds_per_page"] == 2.0
    assert stats["bucket-ocr"]["mean_cer"] == pytest.approx(0.01)


def test_targets_are_met_only_at_or_under_the_limit_and_unknown_without_a_figure() -> None:
    verdicts = judge({"median_seconds_per_page_function": 1.0, "mean_cer_function": 0.011})
    assert verdicts["median_seconds_per_page_function"]["met"] is True
    assert verdicts["mean_cer_function"]["met"] is False
    assert verdicts["cold_start_seconds"]["met"] is None
