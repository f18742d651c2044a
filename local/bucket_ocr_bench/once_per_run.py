"""Figures taken once per run, each in fresh processes: cold start, memory, throughput."""

from __future__ import annotations

import os
import statistics
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bucket_ocr_bench.corpus import Corpus, render_for_pdf
from bucket_ocr_bench.subprocesses import run_child, run_workers


def cold_start(models_dir: Path, environ: Mapping[str, str], env: Mapping[str, str], repeats: int) -> dict[str, Any]:
    runs = [
        run_child("cold-start", {"models_dir": str(models_dir), "environ": dict(environ)}, env) for _ in range(repeats)
    ]
    return {
        "means": "fresh interpreter: import bucket_ocr.engine.OcrEngine + paddleocr, then load the engine as the function's cold start does",
        "runs": runs,
        "median_cold_start_seconds": statistics.median(run["cold_start_seconds"] for run in runs),
        "median_process_wall_seconds": statistics.median(run["process_wall_seconds"] for run in runs),
    }


def pdf_memory(
    corpus: Corpus, models_dir: Path, environ: Mapping[str, str], env: Mapping[str, str], pages: int
) -> dict[str, Any]:
    pdf = corpus.directory / f"memory-{pages}-pages.pdf"
    if not pdf.exists():
        pdf.write_bytes(render_for_pdf(corpus, pages))
    result = run_child("pdf-memory", {"models_dir": str(models_dir), "environ": dict(environ), "pdf": str(pdf)}, env)
    return {
        "means": f"one warm instance reads a {pages}-page image-only PDF page by page; peak = VmHWM of that process",
        **result,
    }


def soak(
    corpus: Corpus, models_dir: Path, environ: Mapping[str, str], env: Mapping[str, str], pages: int
) -> dict[str, Any]:
    warmup = max(1, min(10, pages // 10))
    args = {
        "models_dir": str(models_dir),
        "environ": dict(environ),
        "files": [str(corpus.directory / page.file_name) for page in corpus.pages],
        "pages": pages,
        "warmup": warmup,
        "every": max(1, pages // 20),
    }
    result = run_child("soak", args, env)
    return {
        "means": f"one warm instance, {pages} consecutive pages cycling the corpus; growth of the highest RSS "
        f"over the last pass through the corpus against the first pass after {warmup} warm-up pages",
        **result,
    }


def throughput(
    corpus: Corpus, models_dir: Path, environ: Mapping[str, str], env: Mapping[str, str], pages: int
) -> dict[str, Any]:
    """Pages per minute with 1 worker (all cores) and 2 workers (cores split between them)."""
    files = [str(corpus.directory / corpus.pages[i % len(corpus.pages)].file_name) for i in range(pages)]
    available = sorted(os.sched_getaffinity(0))
    figures = {}
    for workers in (1, 2):
        threads = max(1, len(available) // workers)
        shares = [files[index::workers] for index in range(workers)]
        args = [
            {
                "models_dir": str(models_dir),
                "environ": dict(environ),
                "files": share,
                "cpus": available[index * threads : (index + 1) * threads] or available,
            }
            for index, share in enumerate(shares)
        ]
        results = run_workers(args, env)
        elapsed = max(r["finished"] for r in results) - min(r["started"] for r in results)
        figures[f"{workers}_workers"] = {
            "workers": workers,
            "threads_per_worker": results[0]["threads"],
            "pages": pages,
            "seconds": elapsed,
            "pages_per_minute": 60.0 * pages / elapsed,
        }
    return {"means": "engine processes loaded first, then released together; decode + OCR of each page", **figures}


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="bucket-ocr-bench-"))
