"""Waiting in tests on a condition, never on the clock.

``eventually`` polls a probe until its value is what the test waits for, within a
deadline, and on timeout fails the test with what it waited for and the value it last
saw: "timed out after 30s waiting for the work queue to settle; last seen {'ready': 0,
'unacked': 1}" says what a bare timeout would not. The polling itself is the harness's
``wait_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from bucket_ocr_local.errors import WaitTimeoutError
from bucket_ocr_local.processes import wait_for

T = TypeVar("T")


def eventually(
    probe: Callable[[], T],
    *,
    until: Callable[[T], Any] = bool,
    timeout: float,
    what: str,
    interval: float = 0.3,
) -> T:
    """The first value of ``probe()`` that ``until`` accepts; the test fails if none comes in time."""
    seen: list[T] = []

    def accepted() -> bool:
        seen[:] = [probe()]
        return bool(until(seen[0]))

    try:
        wait_for(accepted, timeout=timeout, what=what, interval=interval)
    except WaitTimeoutError as error:
        pytest.fail(f"{error}; last seen: {seen[0]!r}" if seen else str(error))
    return seen[0]
