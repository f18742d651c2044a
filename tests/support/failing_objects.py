"""Flags that make an object fail transiently in the MinIO test stack's workers.

Kept apart from the handler module that reads them: importing that one loads the function.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

FLAG_DIR_VARIABLE = "OCR_TEST_FAILING_OBJECTS_DIR"


def flag_path(flag_dir: Path | str, bucket: str, key: str) -> Path:
    return Path(flag_dir) / hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()
