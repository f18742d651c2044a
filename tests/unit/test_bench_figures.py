"""Cost and target verdicts: arithmetic from measured figures, never hard-coded ones."""

from __future__ import annotations

import pytest

from bucket_ocr_bench.cost import cost_per_1000_pages
from bucket_ocr_bench.page_runs import PageFigure
from bucket_ocr_bench.report import markdown
from bucket_ocr_bench.summary import aggregate, by_kind, function_overhead, judge, orientation


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
    # (one slow page: its median, 1.5 s, is not its mean, 2.5 s)
    figures = [_figure("engine", p, t, t, c) for p, t, c in (("a", 1.0, 0.0), ("b", 5.0, 0.02), ("c", 1.5, 0.01))]
    figures.append(_figure("function", "a", 5.0, 4.0))
    stats = aggregate(figures)
    assert set(stats) == {"bucket-ocr", "bucket-ocr (function path)"}
    assert stats["bucket-ocr"]["median_seconds_per_page"] == 1.5
    assert stats["bucket-ocr"]["median_ocr_seconds"] == 1.5
    assert stats["bucket-ocr"]["mean_cer"] == pytest.approx(0.01)


def test_targets_are_met_only_at_or_under_the_limit_and_unknown_without_a_figure() -> None:
    verdicts = judge({"median_seconds_per_page_function": 1.0, "mean_cer_function": 0.011})
    assert verdicts["median_seconds_per_page_function"]["met"] is True
    assert verdicts["mean_cer_function"]["met"] is False
    assert verdicts["cold_start_seconds"]["met"] is None


def _kind_figure(kind: str, page: str, total: float, cer: float, path: str = "engine", **turn) -> PageFigure:
    return PageFigure("bucket-ocr", page, path, None, 0.01, total, total, None, cer, cer, 1000, kind=kind, **turn)


def _mixed_figures() -> list[PageFigure]:
    return [
        _kind_figure("a4", "a", 1.0, 0.001, rotation_detected=0, orientation_seconds=0.02),
        _kind_figure("a4", "b", 3.0, 0.003, rotation_detected=0, orientation_seconds=0.04),
        _kind_figure("a4", "a", 1.1, 0.001, path="function"),
        _kind_figure(
            "rotated-90", "a-rot90", 9.0, 0.7, rotation_expected=90, rotation_detected=0, orientation_seconds=0.03
        ),
        _kind_figure(
            "rotated-270", "a-rot270", 7.0, 0.1, rotation_expected=270, rotation_detected=270, orientation_seconds=0.05
        ),
        _kind_figure("rotated-90", "a-rot90", 20.0, 0.7, path="function", rotation_expected=90),
        _kind_figure("receipt", "r", 5.0, 0.2, rotation_detected=None),
    ]


def test_headline_figures_and_overhead_take_upright_a4_pages_only() -> None:
    figures = _mixed_figures()
    stats = aggregate(figures)
    # then the slow, badly read turned page and the receipt leave the headline alone
    assert stats["bucket-ocr"]["pages"] == 2 and stats["bucket-ocr (function path)"]["pages"] == 1
    assert stats["bucket-ocr"]["median_seconds_per_page"] == 2.0
    assert stats["bucket-ocr"]["max_cer"] == pytest.approx(0.003)
    assert function_overhead(figures, "bucket-ocr")["pages"] == 1
    assert function_overhead(figures, "bucket-ocr")["ratio"] == pytest.approx(1.1 / 1.11)


def test_figures_split_per_page_kind_with_the_turns_together() -> None:
    kinds = by_kind(_mixed_figures())
    assert list(kinds["bucket-ocr"]) == ["a4", "rotated", "receipt"]  # the report's order, not arrival
    rotated = kinds["bucket-ocr"]["rotated"]
    assert rotated["pages"] == 2 and rotated["median_seconds_per_page"] == 8.0
    assert rotated["mean_cer"] == pytest.approx(0.4) and rotated["max_cer"] == pytest.approx(0.7)
    assert kinds["bucket-ocr (function path)"]["rotated"]["pages"] == 1


def test_orientation_counts_wrong_turns_per_kind_and_leaves_unknown_ones_out() -> None:
    turns = orientation(_mixed_figures(), "bucket-ocr")
    assert list(turns) == ["a4", "rotated-90", "rotated-270", "receipt"]
    assert (turns["a4"]["wrong"], turns["a4"]["known"]) == (0, 2)
    assert (turns["rotated-90"]["wrong"], turns["rotated-90"]["pages"]) == (1, 1)
    assert turns["rotated-270"]["wrong"] == 0
    assert turns["a4"]["median_orientation_seconds"] == pytest.approx(0.03)
    # an engine that does not say how it turned the page is neither right nor wrong
    assert (turns["receipt"]["known"], turns["receipt"]["wrong"]) == (0, 0)


def test_report_puts_kind_rows_beside_the_a4_headline() -> None:
    figures = _mixed_figures()
    stats = aggregate(figures)
    report = a_report(
        run={"pages": 2, "other_kind_pages": 3, "seed": 1},
        summary=stats,
        by_kind=by_kind(figures),
        orientation=orientation(figures, "bucket-ocr"),
        kind_contestants="everyone everywhere",
    )
    text = markdown(report)
    assert "2 upright A4 pages + 3 pages of other kinds" in text
    assert "| bucket-ocr | rotated | 2 | 40.00% | 70.00% | 8.00 |" in text
    assert "| rotated-90 | 1 of 1 | 0.030 |" in text
    assert "| receipt | n/a (no orientation step in this engine) | n/a |" in text
    assert text.index("| bucket-ocr | 2 | 2.00 |") < text.index("### Per page kind")


def a_report(**parts: object) -> dict:
    """What `report.markdown` reads, with no figures but `parts`."""
    base = {"run": {"pages": 1, "seed": 1}, "summary": {}, "cost": {}, "once_per_run": {}, "targets": judge({})}
    return {**base, "contestants": {}, "prices": "", "machine": {}, **parts}
