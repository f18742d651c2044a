"""Measurements that need a process of their own, run as `python -m bucket_ocr_bench.child TASK JSON`.

A fresh interpreter is the only honest cold start, and RSS is a per-process figure: a
process that already ran other engines would report their memory too. Each task prints
one JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

_STARTED = time.perf_counter()


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """VmHWM, the high-water mark of this process's own memory.

    Not getrusage's ru_maxrss: Linux keeps that across execve, so a child of a big
    parent reports the parent's peak (a 2.6 GB "peak" for an engine that never passed 900 MB).
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("/proc/self/status has no VmHWM line")


def _pages(data: bytes, name: str, pdf_dpi: int):
    from bucket_ocr.documents import iter_pages
    from bucket_ocr.events.records import ObjectRef
    from bucket_ocr.settings import Limits

    return iter_pages(data, ObjectRef("bench", name), limits=Limits(), pdf_dpi=pdf_dpi)[1]


def cold_start(args: dict[str, Any]) -> dict[str, Any]:
    before_import = time.perf_counter()
    import paddleocr  # noqa: F401

    from bucket_ocr.engine import OcrEngine  # noqa: F401  (the import is what is measured; the package is lazy)
    from bucket_ocr_bench.engine_factory import load_function_engine

    imported = time.perf_counter()
    load_function_engine(Path(args["models_dir"]), args["environ"])
    loaded = time.perf_counter()
    return {
        "interpreter_start_seconds": before_import - _STARTED,
        "import_seconds": imported - before_import,
        "load_seconds": loaded - imported,
        "cold_start_seconds": loaded - before_import,
        "rss_mb_after_load": rss_mb(),
    }


def pdf_memory(args: dict[str, Any]) -> dict[str, Any]:
    from bucket_ocr_bench.engine_factory import function_settings, load_function_engine

    settings = function_settings(Path(args["models_dir"]), args["environ"])
    engine = load_function_engine(Path(args["models_dir"]), args["environ"])
    loaded_rss = rss_mb()
    data = Path(args["pdf"]).read_bytes()
    started = time.perf_counter()
    pages = 0
    for image in _pages(data, "memory.pdf", settings.pdf_dpi):
        engine.recognize(image)
        pages += 1
    return {
        "pages": pages,
        "seconds": time.perf_counter() - started,
        "rss_mb_after_load": loaded_rss,
        "peak_rss_mb": peak_rss_mb(),
    }


def soak(args: dict[str, Any]) -> dict[str, Any]:
    """RSS growth of one warm instance: the highest RSS over one pass through the corpus
    right after the warm-up, against the highest over the last pass.

    Comparing passes, not single samples, keeps one large page's transient (a 200 DPI PDF
    page leaves ~30 MB until the next page frees it) from reading as growth or hiding it.
    """
    from bucket_ocr_bench.engine_factory import function_settings, load_function_engine

    settings = function_settings(Path(args["models_dir"]), args["environ"])
    engine = load_function_engine(Path(args["models_dir"]), args["environ"])
    files = [Path(path) for path in args["files"]]
    total, warmup, every = int(args["pages"]), int(args["warmup"]), int(args["every"])
    cycle = len(files)
    first_pass = range(warmup + 1, min(warmup + cycle, total) + 1)
    last_pass = range(max(warmup + 1, total - cycle + 1), total + 1)
    first_rss: list[float] = []
    last_rss: list[float] = []
    series: list[tuple[int, float]] = []
    started = time.perf_counter()
    for done in range(1, total + 1):
        path = files[(done - 1) % cycle]
        for image in _pages(path.read_bytes(), path.name, settings.pdf_dpi):
            engine.recognize(image)
        rss = rss_mb()
        if done in first_pass:
            first_rss.append(rss)
        if done in last_pass:
            last_rss.append(rss)
        if done % every == 0 or done == total:
            series.append((done, round(rss, 1)))
    baseline = max(first_rss) if first_rss else None
    end = max(last_rss) if last_rss else rss_mb()
    return {
        "pages": total,
        "warmup_pages": warmup,
        "pass_pages": cycle,
        "rss_mb_after_warmup": baseline,
        "rss_mb_end": end,
        "growth_percent": None if not baseline else 100.0 * (end - baseline) / baseline,
        "peak_rss_mb": peak_rss_mb(),
        "seconds": time.perf_counter() - started,
        "series": series,
    }


def throughput_worker(args: dict[str, Any]) -> dict[str, Any]:
    """Loads, says ready, waits for `go` on stdin, then reads its share of pages."""
    from bucket_ocr_bench.engine_factory import function_settings, load_function_engine

    # A worker pinned to its share of the cores is how processes split a machine; the
    # engine takes its thread count from the affinity, as it would in a smaller container.
    os.sched_setaffinity(0, set(args["cpus"]))
    settings = function_settings(Path(args["models_dir"]), args["environ"])
    engine = load_function_engine(Path(args["models_dir"]), args["environ"])
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    for path in map(Path, args["files"]):
        for image in _pages(path.read_bytes(), path.name, settings.pdf_dpi):
            engine.recognize(image)
    return {
        "started": started,
        "finished": time.time(),
        "pages": len(args["files"]),
        "threads": engine.describe()["settings"]["cpu_threads"],
    }


TASKS = {"cold-start": cold_start, "pdf-memory": pdf_memory, "soak": soak, "throughput-worker": throughput_worker}


def main() -> int:
    task, raw = sys.argv[1], sys.argv[2]
    result = TASKS[task](json.loads(raw))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
