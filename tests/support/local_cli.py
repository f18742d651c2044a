"""`python -m bucket_ocr_local ...` as a user runs it, for the tests of its commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bucket_ocr_local.python_path import child_environment

ROOT = Path(__file__).resolve().parents[2]


def run_local_cli(work_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The command's exit code and output; the tests read both, so a failure is not raised."""
    return subprocess.run(
        [sys.executable, "-m", "bucket_ocr_local", "--work-dir", str(work_dir), *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
        env=child_environment(),
        cwd=ROOT,
    )
