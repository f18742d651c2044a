"""Real servers and tools the tests need: found, or skipped here and failed in CI.

A CI run (CI=true) that silently skipped MinIO, RabbitMQ, the emulator, Toxiproxy or the
infra linters would prove nothing, so there a missing one fails with the finder's message,
which says how to install it; on a developer's machine the test is skipped with the same
message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn, TypeVar

import pytest

T = TypeVar("T")


def missing(message: str) -> NoReturn:
    """Skip on a developer's machine; under CI a missing server or tool fails the test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run it: {message}")
    pytest.skip(message)


def require(find: Callable[[], T], what: str, missing_error: type[Exception] | tuple[type[Exception], ...]) -> T:
    try:
        return find()
    except missing_error as error:
        missing(f"the real {what}: {error}")
