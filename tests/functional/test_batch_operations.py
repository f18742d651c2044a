"""S3 Batch Operations' LambdaInvoke on moto: each task answered with the result code S3
acts on - Succeeded (result written or already there, or nothing to do), PermanentFailure
(dead-lettered, failed result written), TemporaryFailure (S3 retries the task).

The engine is a double that reads one line per page: what is under test is the answer to
S3, not OCR.
"""

from __future__ import annotations

import io
import json
from urllib.parse import quote_plus

import pytest
from moto import mock_aws
from PIL import Image

from bucket_ocr.results.keys import result_key_for
from bucket_ocr_local.runtimes.context import lambda_context
from tests.support.events import load_event
from tests.support.fake_engine import FakeEngine, engine_failure
from tests.support.moto_app import MotoStack, build_stack, refuse

pytestmark = pytest.mark.functional

INPUT, RESULTS = "batch-in", "batch-out"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, "PNG")
    return buffer.getvalue()


class World:
    def __init__(self, stack: MotoStack, engine: FakeEngine):
        self.s3, self.sqs, self.dlq_url, self.app, self.engine = stack.s3, stack.sqs, stack.dlq_url, stack.app, engine
        self.app_s3 = stack.app_s3  # the app's own client, whose requests a test may fail

    def invoke(self, key: str, *, schema: str = "2.0", version_id: str | None = None, bucket: str = INPUT) -> dict:
        event = load_event(f"s3-batch-operations-{schema}.json")
        task = event["tasks"][0]
        task["s3Key"] = quote_plus(key, safe="/")
        task["s3VersionId"] = version_id
        if schema == "1.0":
            task["s3BucketArn"] = f"arn:aws:s3:::{bucket}"
        else:
            task["s3Bucket"] = bucket
        response = self.app.handle(event, lambda_context())
        # The response S3 reads: the invocation copied, one result per task, JSON all through.
        assert json.loads(json.dumps(response)) == response
        assert response["invocationId"] == event["invocationId"]
        assert response["invocationSchemaVersion"] == schema
        assert response["treatMissingKeysAs"] == "PermanentFailure"
        (result,) = response["results"]
        assert result["taskId"] == task["taskId"]
        return result

    def result_of(self, key: str) -> dict | None:
        try:
            body = self.s3.get_object(Bucket=RESULTS, Key=result_key_for("ocr/", INPUT, key))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def dead_letters(self) -> list[dict]:
        batch = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in batch]


@pytest.fixture
def world(tmp_path):
    with mock_aws():
        engine = FakeEngine()
        yield World(build_stack(tmp_path, INPUT, RESULTS, engine, OCR_CLAIM_WAIT_SECONDS="0"), engine)


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_a_task_is_ocrd_and_answered_succeeded_with_its_result(world, schema):
    # Given a document already in the bucket, under a key that needs URL-encoding
    world.s3.put_object(Bucket=INPUT, Key="old scans/a+b.png", Body=png())
    # When S3 Batch Operations invokes the function for it
    result = world.invoke("old scans/a+b.png", schema=schema)
    # Then the task succeeded, naming the result it wrote
    assert result["resultCode"] == "Succeeded"
    assert (
        result["resultString"] == f"result written: s3://{RESULTS}/{result_key_for('ocr/', INPUT, 'old scans/a+b.png')}"
    )
    assert world.result_of("old scans/a+b.png")["status"] == "succeeded"


def test_a_task_whose_result_is_there_succeeds_without_reading_again(world):
    # Given a document read once already
    world.s3.put_object(Bucket=INPUT, Key="done.png", Body=png())
    assert world.invoke("done.png")["resultCode"] == "Succeeded"
    # When a job (a retried one, a second inventory) asks for it again
    result = world.invoke("done.png")
    # Then it succeeds as already done, and the engine did not read it twice
    assert result["resultCode"] == "Succeeded" and result["resultString"].startswith("already done")
    assert world.engine.pages_read == 1


def stale_result(world: World, key: str) -> None:
    """A result an earlier upload's event left, with that event's sequencer."""
    world.s3.put_object(
        Bucket=RESULTS,
        Key=result_key_for("ocr/", INPUT, key),
        Body=b"{}",
        Metadata={
            "status": "succeeded",
            "source-etag": "0" * 32,
            "source-version-id": "",
            "source-sequencer": "0055AED6DCD90281E5",
        },
    )


def test_an_out_of_date_result_from_an_earlier_event_is_replaced(world):
    # Given a result an earlier upload's event left (with its sequencer), then an
    # overwrite whose event was lost
    stale_result(world, "moved-on.png")
    world.s3.put_object(Bucket=INPUT, Key="moved-on.png", Body=png())
    # When the job's task for it runs
    result = world.invoke("moved-on.png")
    # Then the current document is read and its result replaces the old one
    assert result["resultCode"] == "Succeeded" and result["resultString"].startswith("result written")
    assert world.result_of("moved-on.png")["status"] == "succeeded"


def test_a_task_for_an_object_gone_since_its_stale_result_records_its_failure_over_it(world):
    # Given a result an earlier upload's event left, and the object deleted since
    stale_result(world, "deleted.png")
    # When the job's task for it runs
    result = world.invoke("deleted.png")
    # Then the task failed for good, and the failed result replaces the stale one: the task
    # is ordered after that result before the missing object fails it
    assert result["resultCode"] == "PermanentFailure" and result["resultString"].startswith("ObjectNotFoundError")
    assert world.result_of("deleted.png")["status"] == "failed"
    (letter,) = world.dead_letters()
    assert letter["error_type"] == "ObjectNotFoundError"


def test_an_older_version_named_by_the_manifest_succeeds_as_superseded(world):
    # Given a versioned bucket where a document was overwritten
    world.s3.put_bucket_versioning(Bucket=INPUT, VersioningConfiguration={"Status": "Enabled"})
    old = world.s3.put_object(Bucket=INPUT, Key="v.png", Body=png())["VersionId"]
    world.s3.put_object(Bucket=INPUT, Key="v.png", Body=png() + b"\0")
    # When a manifest with versions names the old one
    result = world.invoke("v.png", schema="1.0", version_id=old)
    # Then there is nothing to do: the newer version's own event brings its OCR. It is
    # not a failure, which would count towards stopping the job.
    assert result["resultCode"] == "Succeeded" and result["resultString"].startswith(
        "skipped: the object has a newer version"
    )
    assert world.engine.pages_read == 0


def test_a_result_of_the_function_in_the_manifest_is_skipped_as_succeeded(world):
    # Given an inventory of a bucket that holds results too
    key = result_key_for("ocr/", INPUT, "x.png")
    world.s3.put_object(Bucket=RESULTS, Key=key, Body=b"{}")
    # When its task for a result comes
    result = world.invoke(key, bucket=RESULTS)
    # Then it is not read (a result must never be OCR'd), and not a failure either
    assert result["resultCode"] == "Succeeded" and result["resultString"].startswith(
        "skipped: a result written by this function"
    )
    assert world.engine.pages_read == 0


def test_a_document_that_cannot_be_read_is_a_permanent_failure_dead_lettered(world):
    # Given a corrupt document
    world.s3.put_object(Bucket=INPUT, Key="broken.png", Body=b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    # When its task runs
    result = world.invoke("broken.png")
    # Then S3 is told it failed for good, with the reason
    assert result["resultCode"] == "PermanentFailure"
    assert "dead-lettered" in result["resultString"]
    # and, as for any event, a failed result is written and a dead letter holds a record
    # that the function takes again as an event
    assert world.result_of("broken.png")["status"] == "failed"
    (letter,) = world.dead_letters()
    assert (letter["bucket"], letter["key"]) == (INPUT, "broken.png")
    assert letter["record"]["s3_batch"]["task_id"] == "dGFza2lkZ29lc2hlcmUK"
    assert world.app.handle({k: v for k, v in letter["record"].items()}, lambda_context())["outcomes"]


def test_a_missing_object_is_a_permanent_failure(world):
    result = world.invoke("never-uploaded.png")
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"].startswith("ObjectNotFoundError")


def test_a_transient_failure_is_a_temporary_failure_s3_retries(world):
    # Given an engine whose host runs out of memory (a failure a retry may not meet)
    world.s3.put_object(Bucket=INPUT, Key="flaky.png", Body=png())
    world.engine.failures = [engine_failure(MemoryError())]
    # When the task runs
    result = world.invoke("flaky.png")
    # Then S3 is asked to retry it: no result, no dead letter
    assert result["resultCode"] == "TemporaryFailure"
    assert result["resultString"].startswith("EngineOutOfMemoryError")
    assert world.result_of("flaky.png") is None and world.dead_letters() == []
    # and the retry, once the engine is well, succeeds
    assert world.invoke("flaky.png")["resultCode"] == "Succeeded"


def test_storage_unavailable_before_processing_is_a_temporary_failure(world):
    # Given a results bucket that answers every look at a result with 503, past the client's retries
    refuse(world.app_s3, "HeadObject", f"ocr/{INPUT}/", 503, "ServiceUnavailable")
    # When a task runs
    result = world.invoke("any.png")
    # Then S3 is asked to retry it
    assert result["resultCode"] == "TemporaryFailure" and result["resultString"].startswith("StorageUnavailableError")


def test_a_result_storage_refuses_to_show_is_a_permanent_failure_dead_lettered(world):
    # Given a results bucket that refuses the look at the existing result, as it would on every retry
    refuse(world.app_s3, "HeadObject", f"ocr/{INPUT}/", 400, "InvalidRequest")
    world.s3.put_object(Bucket=INPUT, Key="refused.png", Body=png())
    # When the task runs
    result = world.invoke("refused.png")
    # Then it ends as any permanent failure does: told to S3 for good, and dead-lettered
    assert result["resultCode"] == "PermanentFailure" and result["resultString"].startswith("StorageRejectedError")
    (letter,) = world.dead_letters()
    assert (letter["error_type"], letter["key"]) == ("StorageRejectedError", "refused.png")
    assert world.engine.pages_read == 0


def test_an_unreadable_task_is_a_permanent_failure(world):
    event = load_event("s3-batch-operations-2.0.json")
    del event["tasks"][0]["s3Key"]
    response = world.app.handle(event, lambda_context())
    [result] = response["results"]
    assert result["resultCode"] == "PermanentFailure" and result["resultString"].startswith("MalformedEventError")
