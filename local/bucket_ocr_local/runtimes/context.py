"""The local function's identity, and the Lambda context it is invoked with.

The context is awslambdaric's own class, the one the deployed function receives. Its
bootstrap passes the request id, deadline and ARN of each invocation, and the class reads
the function's name, version, memory and log names from the runtime process's environment
(AWS_LAMBDA_*), which Lambda sets. ``runtime_environment`` is that environment: the
emulator's runtime process gets it as such. A process that only calls the handler (the
in-process runtime, tests) gets the same values on the context instead, not in
``os.environ``: there, AWS_LAMBDA_FUNCTION_NAME would make powertools believe it runs in
Lambda and switch the tracer on with no X-Ray daemon to send to.
"""

from __future__ import annotations

import time
import uuid

from awslambdaric.lambda_context import LambdaContext

FUNCTION_NAME = "bucket-ocr"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"
# The deployed function's timeout: the emulator enforces it, the context reports what is left of it.
TIMEOUT_SECONDS = 300


def runtime_environment(timeout_seconds: int = TIMEOUT_SECONDS) -> dict[str, str]:
    """What Lambda sets in the runtime's environment, and awslambdaric reads into each context."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout_seconds),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{FUNCTION_NAME}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
    }


def lambda_context(request_id: str | None = None, *, timeout_seconds: int = TIMEOUT_SECONDS) -> LambdaContext:
    """A context for one invocation that starts now, as the runtime would build it."""
    deadline_ms = int(time.time() * 1000) + timeout_seconds * 1000
    context = LambdaContext(request_id or str(uuid.uuid4()), None, None, deadline_ms, invoked_function_arn=FUNCTION_ARN)
    environment = runtime_environment(timeout_seconds)
    context.function_name = environment["AWS_LAMBDA_FUNCTION_NAME"]
    context.function_version = environment["AWS_LAMBDA_FUNCTION_VERSION"]
    context.memory_limit_in_mb = environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    context.log_group_name = environment["AWS_LAMBDA_LOG_GROUP_NAME"]
    context.log_stream_name = environment["AWS_LAMBDA_LOG_STREAM_NAME"]
    return context
