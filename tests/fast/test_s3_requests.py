"""What the function asks S3 before it claims a document: one look at the source and one at
its result, whatever the event carried. A look made twice in a row learns nothing the first
did not; the looks that guard a race (under the claim, before the write) are not counted."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import quote_plus

from bucket_ocr.results.keys import result_key_for
from bucket_ocr_local.runtimes.context import lambda_context
from tests.fast.helpers import blank_png
from tests.support.events import load_event

Request = tuple[str, str, str]  # operation, bucket, key


class S3Requests:
    """Every request the app's S3 client makes, in order, seen through botocore's own hooks."""

    def __init__(self, client: Any):
        self.made: list[Request] = []
        # before-parameter-build sees the API's parameters (Bucket, Key), before serialising
        client.meta.events.register("before-parameter-build.s3", self._seen)

    def _seen(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.made.append((model.name, params.get("Bucket", ""), params.get("Key", "")))

    def before_the_claim(self, results_bucket: str) -> Counter[Request]:
        """The requests made before the run claims the object: its first write to the results
        bucket. (Once it holds the claim it looks at the result again, for a holder that
        finished in between; and after OCR, before writing, at the source: those guard races.)"""
        writes = [
            n
            for n, (operation, bucket, _) in enumerate(self.made)
            if (operation, bucket) == ("PutObject", results_bucket)
        ]
        assert writes, f"nothing was claimed: {self.made}"
        return Counter(self.made[: writes[0]])


def batch_task(stack: Any, key: str) -> dict[str, Any]:
    """S3 Batch Operations' invocation (schema 2.0) for ``key``, without a version."""
    event = load_event("s3-batch-operations-2.0.json")
    event["tasks"][0].update(s3Bucket=stack.input_bucket, s3Key=quote_plus(key, safe="/"), s3VersionId=None)
    return event


def result_head(stack: Any, key: str) -> Request:
    return ("HeadObject", stack.results_bucket, result_key_for(stack.settings.results_prefix, stack.input_bucket, key))


def test_a_direct_invocation_heads_its_source_once_before_reading_it(moto_stack):
    # Given an uploaded page, and a direct invocation that names its key only
    moto_stack.upload("by hand.png", blank_png())
    requests = S3Requests(moto_stack.app_s3)
    # When it is handled
    response = moto_stack.app.handle({"bucket": moto_stack.input_bucket, "key": "by hand.png"}, lambda_context())
    # Then its version was learnt with one HEAD, which also said it is the current one
    assert response["outcomes"][0]["status"] == "succeeded"
    before = requests.before_the_claim(moto_stack.results_bucket)
    assert before[("HeadObject", moto_stack.input_bucket, "by hand.png")] == 1
    assert before[result_head(moto_stack, "by hand.png")] == 1


def test_a_batch_task_over_a_stale_result_reads_that_result_once_and_replaces_it(moto_stack):
    # Given a result an earlier upload's event left, then an overwrite whose event was lost
    key = "stale.png"
    moto_stack.s3.put_object(
        Bucket=moto_stack.results_bucket,
        Key=result_head(moto_stack, key)[2],
        Body=b"{}",
        Metadata={"status": "succeeded", "source-etag": "0" * 32, "source-sequencer": "0055AED6DCD90281E5"},
    )
    moto_stack.upload(key, blank_png())
    requests = S3Requests(moto_stack.app_s3)
    # When S3 Batch Operations' task for it runs
    (result,) = moto_stack.app.handle(batch_task(moto_stack, key), lambda_context())["results"]
    # Then the document is read and its result replaces the stale one
    assert result["resultCode"] == "Succeeded" and result["resultString"].startswith("result written")
    assert moto_stack.result(key)["status"] == "succeeded"
    # after one look at the old result and one at the source
    before = requests.before_the_claim(moto_stack.results_bucket)
    assert before[result_head(moto_stack, key)] == 1
    assert before[("HeadObject", moto_stack.input_bucket, key)] == 1
    # and ordered just after the result it replaced: a later upload's event still replaces it
    written = moto_stack.s3.head_object(Bucket=moto_stack.results_bucket, Key=result_head(moto_stack, key)[2])
    assert written["Metadata"]["source-sequencer"] == "0055AED6DCD90281E6"


def test_a_batch_task_whose_result_is_there_looks_once_at_each_and_reads_nothing(moto_stack):
    # Given a document a first Batch job read
    key = "done.png"
    moto_stack.upload(key, blank_png())
    moto_stack.app.handle(batch_task(moto_stack, key), lambda_context())
    requests = S3Requests(moto_stack.app_s3)
    # When a second job asks for it again
    (result,) = moto_stack.app.handle(batch_task(moto_stack, key), lambda_context())["results"]
    # Then it is already done, known from one HEAD of the result and one of the source
    assert result["resultString"].startswith("already done")
    assert Counter(requests.made) == {result_head(moto_stack, key): 1, ("HeadObject", moto_stack.input_bucket, key): 1}
    assert moto_stack.app.engine.pages_read == 1
