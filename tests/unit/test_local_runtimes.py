"""The local runtimes hand the function awslambdaric's own context, filled as Lambda fills it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from awslambdaric.lambda_context import LambdaContext

from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.runtimes.context import FUNCTION_ARN, lambda_context, runtime_environment
from bucket_ocr_local.runtimes.in_process import InProcessRuntime
from bucket_ocr_local.spec import UNSET_FOR_FUNCTION

SEEN: list[Any] = []


def recording_handler(event: Any, context: Any) -> Any:
    SEEN.append(context)
    if event.get("fail"):
        raise ValueError("the handler refused it")
    return {"echo": event}


def test_the_context_is_awslambdarics_with_what_its_runtime_would_have_read(monkeypatch):
    # Given the runtime's environment as Lambda sets it, and awslambdaric's context built there
    for name, value in runtime_environment(timeout_seconds=60).items():
        monkeypatch.setenv(name, value)
    in_lambda = LambdaContext("request-1", None, None, 0, invoked_function_arn=FUNCTION_ARN)
    for name in runtime_environment():
        monkeypatch.delenv(name)

    # When the local runtimes build one outside that environment
    local = lambda_context("request-1", timeout_seconds=60)

    # Then it is the same class with the same identity, and reports the time left of the timeout
    assert type(local) is LambdaContext
    fields = ("function_name", "function_version", "memory_limit_in_mb", "log_group_name", "log_stream_name")
    assert {f: getattr(local, f) for f in fields} == {f: getattr(in_lambda, f) for f in fields}
    assert local.function_name == "bucket-ocr" and local.aws_request_id == "request-1"
    assert local.invoked_function_arn == FUNCTION_ARN
    assert 55_000 < local.get_remaining_time_in_millis() <= 60_000


@pytest.fixture
def in_process(monkeypatch) -> InProcessRuntime:
    # The runtime drops these from the process environment; monkeypatch puts them back after.
    for name in UNSET_FOR_FUNCTION:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
    SEEN.clear()
    return InProcessRuntime({}, handler=f"{__name__}.recording_handler", timeout_seconds=30)


def test_in_process_invocations_get_a_context_with_their_request_id(in_process):
    # When the in-process runtime invokes the handler with a request id
    response = in_process.invoke({"n": 1}, request_id="abc-123")

    # Then the handler got awslambdaric's context for that request, with the timeout ahead of it
    assert response == {"echo": {"n": 1}}
    [context] = SEEN
    assert isinstance(context, LambdaContext) and context.aws_request_id == "abc-123"
    assert 25_000 < context.get_remaining_time_in_millis() <= 30_000


def test_a_handler_error_is_the_invocations_error_with_lambdas_fields(in_process):
    # When the handler raises
    with pytest.raises(FunctionInvocationError) as failed:
        in_process.invoke({"fail": True}, request_id="req-9")

    # Then the invocation fails with the error as Lambda reports it
    assert failed.value.payload["errorType"] == "ValueError"
    assert failed.value.payload["errorMessage"] == "the handler refused it"
    assert failed.value.payload["requestId"] == "req-9"
