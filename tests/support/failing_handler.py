"""The function's handler, with objects that fail transiently while a flag file exists,
and (``OCR_TEST_SLOW_SECONDS``) every event made slower, like a long document.

Workers of the MinIO test stack run this (``OCR_WORKER_HANDLER``) so a test can make one
object fail on every delivery, as a storage outage would, and later let it pass, without
touching the function or the worker under test. Every other object goes straight through
to the real handler.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.events import records_from_payload
from bucket_ocr.handler import lambda_handler as real_handler
from tests.support.failing_objects import FLAG_DIR_VARIABLE, flag_path


def lambda_handler(event: Any, context: Any) -> Any:
    flag_dir = os.environ.get(FLAG_DIR_VARIABLE)
    if flag_dir:
        for record in records_from_payload(event):
            if flag_path(flag_dir, record.bucket, record.key).exists():
                raise StorageUnavailableError("storage unavailable (test flag)", bucket=record.bucket, key=record.key)
    time.sleep(float(os.environ.get("OCR_TEST_SLOW_SECONDS") or 0))
    return real_handler(event, context)
