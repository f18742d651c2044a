"""The benchmark's own process environment, and what the machine was doing meanwhile.

The env skill: on some processors OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set for old
OpenBLAS builds and slow a current numpy; a benchmark unsets both, in its own
environment only. We re-exec once without them, so every child inherits the same.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Any

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REEXEC_MARK = "BUCKET_OCR_BENCH_REEXECED"


def reexec_without_openblas_overrides(argv: list[str]) -> None:
    present = [name for name in OPENBLAS_VARIABLES if name in os.environ]
    if not present or os.environ.get(_REEXEC_MARK):
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARIABLES}
    env[_REEXEC_MARK] = ",".join(present)
    os.execve(sys.executable, [sys.executable, "-m", "bucket_ocr_bench", *argv], env)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpus": cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
        "openblas_overrides_unset": os.environ.get(_REEXEC_MARK) or "none were set",
    }
