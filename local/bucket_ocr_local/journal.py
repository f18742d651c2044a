"""One JSON line per invocation, appended by every worker: who ran what, how it ended.

The stack's own record, apart from the function's results: it is how `demo` reports
seconds per file and how tests prove an object was processed exactly once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

JOURNAL_FILE = "invocations.jsonl"


def journal_path(work_dir: Path | str) -> Path:
    return Path(work_dir) / JOURNAL_FILE


def append(work_dir: Path | str, entry: dict[str, Any]) -> None:
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    # One write on an O_APPEND descriptor: lines from concurrent workers don't interleave.
    fd = os.open(journal_path(work_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def entries(work_dir: Path | str) -> list[dict[str, Any]]:
    try:
        text = journal_path(work_dir).read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
