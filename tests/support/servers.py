"""Real servers the integration tier needs: found, or skipped here and failed in CI.

A CI run (CI=true) that silently skipped MinIO, RabbitMQ, the emulator or Toxiproxy would
prove nothing, so there a missing one fails with the finder's message, which says how to
install it; on a developer's machine the test is skipped with the same message.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def require(find: Callable[[], T], what: str, missing: type[Exception] | tuple[type[Exception], ...]) -> T:
    try:
        return find()
    except missing as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the real {what}: {error}")
        pytest.skip(str(error))
