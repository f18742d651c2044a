"""The function imported into this process: one cold start, then warm invocations.

The environment is set before the handler module is imported because that import is the
function's init phase (settings, OCR engine, boto3 clients), as in Lambda.
"""

from __future__ import annotations

import importlib
import json
import os
import traceback
from typing import Any

from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.runtimes.context import lambda_context
from bucket_ocr_local.spec import UNSET_FOR_FUNCTION


class InProcessRuntime:
    def __init__(self, function_env: dict[str, str], *, handler: str, timeout_seconds: int):
        for variable in UNSET_FOR_FUNCTION:
            os.environ.pop(variable, None)
        os.environ.update(function_env)
        module_name, _, attribute = handler.rpartition(".")
        # Errors here are init errors; they propagate so a worker dies loudly at start.
        self._handler = getattr(importlib.import_module(module_name), attribute)
        self._timeout = timeout_seconds

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        # Through JSON both ways, as the runtime API does: the function never sees objects
        # the wire could not carry, and a response that isn't JSON fails here as it would there.
        payload = json.loads(json.dumps(event))
        context = lambda_context(request_id, timeout_seconds=self._timeout)
        try:
            response = self._handler(payload, context)
        # The runtime's boundary: any error of the handler is the invocation's, as in awslambdaric.
        except Exception as exc:
            raise FunctionInvocationError(
                type(exc).__name__,
                str(exc),
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                },
            ) from exc
        return json.loads(json.dumps(response))

    def close(self) -> None:
        pass
