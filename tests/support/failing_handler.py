"""The function's handler, with objects that fail transiently while a flag file exists, or
wait while a hold flag exists, and (``OCR_TEST_SLOW_SECONDS``) every event made slower.

Workers of the MinIO test stack run this (``OCR_WORKER_HANDLER``) so a test can make one
object fail on every delivery, as a storage outage would, and later let it pass, or keep a
document in a worker's hands until the test has done what it needs meanwhile (killed or
stopped that worker), without touching the function or the worker under test. Every other
object goes straight through to the real handler.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.events.routing import objects_named
from bucket_ocr.handler import lambda_handler as real_handler
from tests.support.failing_objects import FLAG_DIR_VARIABLE, flag_path, hold_path

# A hold the test never lifts (it failed first) lets go after this, so the worker is not stuck.
HOLD_LIMIT_SECONDS = 300.0


def lambda_handler(event: Any, context: Any) -> Any:
    flag_dir = os.environ.get(FLAG_DIR_VARIABLE)
    if flag_dir:
        # Every object the event names, in an SQS batch's messages too (the moto stack's workers)
        for named in objects_named(event):
            bucket, key = named["bucket"], named["key"]
            if flag_path(flag_dir, bucket, key).exists():
                raise StorageUnavailableError("storage unavailable (test flag)", bucket=bucket, key=key)
            _wait_while(hold_path(flag_dir, bucket, key).exists)
    # Not a wait for anything: a handler call of a known length is the scenario of the test
    # that sets it (a call longer than the broker's heartbeat must keep the connection).
    time.sleep(float(os.environ.get("OCR_TEST_SLOW_SECONDS") or 0))
    return real_handler(event, context)


def _wait_while(holding: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while holding() and time.monotonic() < deadline:
        time.sleep(0.05)
