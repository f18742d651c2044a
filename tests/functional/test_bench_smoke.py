"""`python -m bucket_ocr_bench` on a one-page corpus and its three turns: it runs, and its figures are sane.

A benchmark, not a timed test: nothing here judges speed, only that every figure the
issue asks for is present, positive and within its range.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.functional

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_run(built_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    contestants = ["bucket-ocr", "paddleocr-defaults"]
    if shutil.which("tesseract"):
        contestants.append("tesseract")
    elif os.environ.get("CI") == "true":
        pytest.fail("tesseract missing: local/tools/install-system-packages.sh must run before the tests")
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "local"), str(ROOT / "functions")])}
    done = subprocess.run(
        [
            sys.executable, "-m", "bucket_ocr_bench",
            "--out", str(out), "--models-dir", str(built_models_dir),
            "--pages", "1", "--contestants", ",".join(contestants), "--kinds", "rotated",
            "--cold-starts", "1", "--pdf-pages", "2", "--soak-pages", "2", "--throughput-pages", "2",
        ],
        capture_output=True, text=True, env=env, timeout=1500, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out, contestants


def test_json_markdown_and_plot_are_written(bench_run: tuple[Path, list[str]]) -> None:
    out, _ = bench_run
    for name in ("results.json", "results.md", "results.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| bucket-ocr (function path) |" in (out / "results.md").read_text()


def test_every_page_figure_is_positive_with_a_cer_between_zero_and_one(bench_run: tuple[Path, list[str]]) -> None:
    out, contestants = bench_run
    report = json.loads((out / "results.json").read_text())
    # given one upright page, then each contestant has a bare figure and the function one more
    upright = [figure for figure in report["pages"] if figure["kind"] == "a4"]
    assert len(upright) == len(contestants) + 1
    # and its three turns are read by the project's engine and its function path
    turned = [figure for figure in report["pages"] if figure["kind"] != "a4"]
    assert sorted({figure["contestant"] for figure in turned}) == ["bucket-ocr"]
    assert len(turned) == 6
    for figure in report["pages"]:
        assert 0.0 <= figure["cer"] <= 1.0 and 0.0 <= figure["cer_without_spaces"] <= 1.0
        assert figure["ocr_seconds"] > 0 and figure["total_seconds"] >= figure["ocr_seconds"]
        assert figure["decode_seconds"] > 0
        if figure["path"] == "function":
            assert figure["download_seconds"] > 0
    # every contestant reads a clean A4 page well; a broken pipeline (the function's, or the
    # engine seam that PaddleOCR's defaults are read through) would read nothing
    for name in [*contestants, "bucket-ocr (function path)"]:
        assert report["summary"][name]["mean_cer"] < 0.2, name


def test_turned_pages_are_counted_per_kind_with_the_orientation_step_timed(bench_run: tuple[Path, list[str]]) -> None:
    out, _ = bench_run
    report = json.loads((out / "results.json").read_text())
    for kind in ("a4", "rotated-90", "rotated-180", "rotated-270"):
        figures = report["orientation"][kind]
        assert figures["pages"] == figures["known"] == 1
        assert figures["wrong"] == 0  # a page the engine turned the wrong way reads as garbage
        assert figures["median_orientation_seconds"] > 0
    assert report["by_kind"]["bucket-ocr"]["rotated"]["mean_cer"] < 0.2
    assert "### Per page kind" in (out / "results.md").read_text()


def test_once_per_run_figures_cost_and_targets_are_present(bench_run: tuple[Path, list[str]]) -> None:
    out, contestants = bench_run
    report = json.loads((out / "results.json").read_text())
    once = report["once_per_run"]
    assert once["cold_start"]["median_cold_start_seconds"] > 0
    assert once["pdf_memory"]["pages"] == 2 and once["pdf_memory"]["peak_rss_mb"] > 0
    assert once["soak"]["rss_mb_end"] > 0 and once["soak"]["growth_percent"] is not None
    for key in ("1_workers", "2_workers"):
        assert once["throughput"][key]["pages_per_minute"] > 0
    assert report["function_overhead"]["ratio"] >= 1.0
    assert all(once["outputs"]["median_seconds_per_page"][kind] > 0 for kind in ("pdf", "hocr"))
    assert set(report["contestants"]) == set(contestants)
    assert "default pipeline settings" in report["contestants"]["paddleocr-defaults"]["means"]
    for label, cost in report["cost"].items():
        assert cost["usd_per_1000_pages"] > 0, label
    assert set(report["targets"]) >= {"median_seconds_per_page_function", "mean_cer_function", "cold_start_seconds"}
    assert all(verdict["measured"] is not None for verdict in report["targets"].values())
