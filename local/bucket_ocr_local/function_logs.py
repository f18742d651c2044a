"""The function's own structured log lines, as the stack's workers wrote them to logs/.

Powertools writes one JSON object a line, with the bucket and key of the object in hand;
counting the lines that say an object was recognised counts the engine's completed runs,
which is how the soak and the tests prove each object was OCR'd exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RECOGNISED = "recognised"
RECEIVED = "event received"  # bucket-ocr-worker took a message (logged before the handler runs)
HANDLED = "event handled"  # ... and the handler returned, with each object's outcome
RECOGNISING = "recognising"  # an engine run started, with the source etag and version id


def records(work_dir: Path | str) -> Iterator[dict[str, Any]]:
    for path in sorted((Path(work_dir) / "logs").glob("worker-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield {**record, "log_file": path.name}


def about(work_dir: Path | str, message: str, bucket: str, key: str) -> list[dict[str, Any]]:
    """The lines with that message about that object."""
    wanted = {"bucket": bucket, "key": key}
    return [
        r
        for r in records(work_dir)
        if r.get("message") == message
        and ((r.get("bucket"), r.get("key")) == (bucket, key) or wanted in (r.get("objects") or []))
    ]


def ocr_runs(work_dir: Path | str, bucket: str, key: str) -> int:
    return len(about(work_dir, RECOGNISED, bucket, key))


def ocr_starts(work_dir: Path | str, bucket: str, key: str) -> int:
    """Engine runs started for that object, finished or not (a worker killed mid-read)."""
    return len(about(work_dir, RECOGNISING, bucket, key))
