"""Two ways to run the function: in this process, or under awslambdaric driven by the RIE.

Both take an event dict and return the function's response, or raise
FunctionInvocationError with Lambda's error type and message, so workers and `invoke`
don't care which one they got.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from bucket_ocr_local.runtimes.context import TIMEOUT_SECONDS

HANDLER = "bucket_ocr.handler.lambda_handler"
RUNTIMES = ("in-process", "rie")


class Runtime(Protocol):
    def invoke(self, event: Any, request_id: str | None = None) -> Any: ...

    def close(self) -> None: ...


def start_runtime(
    kind: str, function_env: dict[str, str], *, work_dir: Path, name: str, handler: str = HANDLER
) -> Runtime:
    if kind == "in-process":
        from bucket_ocr_local.runtimes.in_process import InProcessRuntime

        return InProcessRuntime(function_env, handler=handler, timeout_seconds=TIMEOUT_SECONDS)
    if kind == "rie":
        from bucket_ocr_local.runtimes.emulator import EmulatorRuntime

        return EmulatorRuntime(
            function_env, work_dir=work_dir, name=name, handler=handler, timeout_seconds=TIMEOUT_SECONDS
        ).start()
    raise ValueError(f"unknown runtime {kind!r}; choose from {', '.join(RUNTIMES)}")
