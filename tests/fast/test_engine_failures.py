"""What a failing engine comes to: a fault of the moment passes, a page it fails on twice is
the document's permanent failure, a host out of memory is retried, and a bug is a bug."""

from __future__ import annotations

import logging

import pytest

from bucket_ocr.errors import EngineOutOfMemoryError
from bucket_ocr.observability import SERVICE
from bucket_ocr_local.runtimes.context import lambda_context
from tests.fast.helpers import blank_png
from tests.support.events import load_event, sqs_wrap
from tests.support.fake_engine import engine_failure
from tests.support.moto_app import s3_event


def handle_upload(stack, key="scan.png"):
    etag = stack.upload(key, blank_png())
    return stack.app.handle(s3_event(stack, key, etag), lambda_context())


def test_an_engine_failure_that_passes_on_a_second_read_costs_nothing_but_the_read(moto_stack):
    # Given an engine that fails once, as a library can for a moment
    moto_stack.app.engine.failures = [engine_failure(RuntimeError("transient glitch"))]
    # When a page is read
    response = handle_upload(moto_stack)
    # Then the page is read again at once and the document succeeds, with nothing dead-lettered
    assert response["outcomes"][0]["status"] == "succeeded"
    assert moto_stack.app.engine.attempts == 2
    assert moto_stack.result("scan.png")["status"] == "succeeded"
    assert moto_stack.dead_letters() == []


def test_a_page_the_engine_fails_on_twice_is_a_permanent_failure_with_the_engines_message(moto_stack):
    # Given an engine that fails on this page every time
    moto_stack.app.engine.failures = [engine_failure(RuntimeError("(PreconditionNotMet) tensor shape")) for _ in "ab"]
    # When its event is handled
    response = handle_upload(moto_stack)
    # Then nothing is raised for a retry: the document has a failed result and one dead letter,
    # both with the engine's own words
    (outcome,) = response["outcomes"]
    assert (outcome["status"], outcome["error_type"]) == ("failed", "OcrEngineFailedError")
    result = moto_stack.result("scan.png")
    assert result["error"]["type"] == "OcrEngineFailedError"
    assert "page 1" in result["error"]["message"] and "(PreconditionNotMet) tensor shape" in result["error"]["message"]
    (letter,) = moto_stack.dead_letters()
    assert letter["error_type"] == "OcrEngineFailedError" and "tensor shape" in letter["error_message"]
    assert moto_stack.app.engine.attempts == 2


def test_an_engine_out_of_memory_is_retried_by_the_platform_not_recorded(moto_stack):
    # Given an engine whose library ran out of memory under it
    moto_stack.app.engine.failures = [engine_failure(MemoryError())]
    # When a page is read, then the event goes back to the platform: not the document's fault
    with pytest.raises(EngineOutOfMemoryError, match=r"scan\.png"):
        handle_upload(moto_stack)
    assert moto_stack.dead_letters() == [] and moto_stack.result_keys() == []


def test_a_bug_in_our_code_under_the_engine_call_surfaces_as_itself(moto_stack):
    # Given a bug of ours (not an EngineError) raised from the engine call
    moto_stack.app.engine.failures = [TypeError("a bug of ours")]
    # When an upload is handled, then the bug comes out as it is, and is not recorded as the document's
    with pytest.raises(TypeError, match="a bug of ours"):
        handle_upload(moto_stack)
    assert moto_stack.app.engine.attempts == 1  # not read again: a retry is not a fix
    assert moto_stack.dead_letters() == [] and moto_stack.result_keys() == []


def test_a_bug_in_an_sqs_batch_is_reported_for_redelivery_and_logged_with_its_traceback(moto_stack, caplog):
    # Given a bug of ours on the path of one queued message
    moto_stack.app.engine.failures = [TypeError("a bug of ours")]
    etag = moto_stack.upload("queued.png", blank_png())
    batch = sqs_wrap([s3_event(moto_stack, "queued.png", etag)])
    # When the batch is handled (the service's log, which does not propagate to the root, watched)
    service_log = logging.getLogger(SERVICE)
    service_log.addHandler(caplog.handler)
    try:
        response = moto_stack.app.handle(batch, lambda_context())
    finally:
        service_log.removeHandler(caplog.handler)
    # Then the message goes back, and the log shows the bug with its traceback
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    bugs = [record.exc_info for record in caplog.records if record.exc_info]
    assert bugs and all(isinstance(error, TypeError) and trace is not None for _, error, trace in bugs)


def batch_operation(stack, key):
    event = load_event("s3-batch-operations-2.0.json")
    event["tasks"][0].update(s3Bucket=stack.input_bucket, s3Key=key, s3VersionId=None)
    return event


def test_an_s3_batch_task_the_engine_fails_on_twice_is_a_permanent_failure(moto_stack):
    moto_stack.app.engine.failures = [engine_failure(RuntimeError("boom")) for _ in "ab"]
    moto_stack.upload("task.png", blank_png())
    (result,) = moto_stack.app.handle(batch_operation(moto_stack, "task.png"), lambda_context())["results"]
    assert result["resultCode"] == "PermanentFailure" and result["resultString"].startswith("OcrEngineFailedError")


def test_a_bug_in_an_s3_batch_task_fails_the_invocation_instead_of_asking_for_a_retry(moto_stack):
    moto_stack.app.engine.failures = [TypeError("a bug of ours")]
    moto_stack.upload("task.png", blank_png())
    with pytest.raises(TypeError, match="a bug of ours"):
        moto_stack.app.handle(batch_operation(moto_stack, "task.png"), lambda_context())
