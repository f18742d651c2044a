"""Flags that make an object fail transiently, or be held, in the MinIO test stack's workers.

Kept apart from the handler module that reads them: importing that one loads the function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FLAG_DIR_VARIABLE = "OCR_TEST_FAILING_OBJECTS_DIR"
# The handler that reads them, as a worker names its handler.
HANDLER = "tests.support.failing_handler.lambda_handler"


def flag_path(flag_dir: Path | str, bucket: str, key: str) -> Path:
    return Path(flag_dir) / hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()


def hold_path(flag_dir: Path | str, bucket: str, key: str) -> Path:
    return flag_path(flag_dir, bucket, key).with_suffix(".hold")


@contextmanager
def held(flag_dir: Path | str, bucket: str, key: str) -> Iterator[Path]:
    """Every delivery of the object waits in the handler until the flag yielded is removed
    (or the block ends): a document still in hand, however fast the machine reads it."""
    flag = hold_path(flag_dir, bucket, key)
    flag.touch()
    try:
        yield flag
    finally:
        flag.unlink(missing_ok=True)
