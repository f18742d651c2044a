"""The function's path around OCR, on moto with a fake engine: routing, duplicates, dead
letters with failed results, outputs, and what is retried against what is recorded."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from PIL import Image

from bucket_ocr.completion.settings import CompletionSettings
from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.events import records_from_payload
from bucket_ocr_local.runtimes.context import lambda_context
from tests.fast.helpers import blank_png
from tests.support.events import load_event, retarget, sqs_wrap
from tests.support.fake_engine import DEFAULT_LINES
from tests.support.moto_app import reconfigure, s3_event, throttle
from tests.support.schema import result_validator

TEXT = "\n".join(DEFAULT_LINES)


def test_an_upload_comes_back_as_the_engines_lines_with_its_source(moto_stack):
    # Given a page uploaded under a key with a space, a "+" and unicode
    key = "incoming/Señor Núñez+factura 1.png"
    data = blank_png()
    etag = moto_stack.upload(key, data)
    # When S3's event for it reaches the function
    response = moto_stack.app.handle(s3_event(moto_stack, key, etag), lambda_context())
    # Then the result holds the engine's lines and names the object it was read from
    result = moto_stack.result(key)
    result_validator().validate(result)
    assert response["outcomes"][0]["status"] == "succeeded"
    assert (result["status"], result["text"]) == ("succeeded", TEXT)
    assert [line["text"] for line in result["pages"][0]["lines"]] == list(DEFAULT_LINES)
    assert result["source"] == {
        "bucket": moto_stack.input_bucket,
        "key": key,
        "version_id": None,
        "etag": etag,
        "size": len(data),
        "content_type": "image/png",
    }
    assert result["engine"]["name"] == "fake"
    assert result["outputs"] == {"json": f"ocr/{moto_stack.input_bucket}/{key}.json"}


def test_a_duplicate_event_reads_no_page_again(moto_stack):
    # Given an upload whose event has been handled
    etag = moto_stack.upload("dup.png", blank_png())
    event = s3_event(moto_stack, "dup.png", etag)
    moto_stack.app.handle(event, lambda_context())
    # When the same event is delivered again (at-least-once delivery)
    response = moto_stack.app.handle(event, lambda_context())
    # Then no page is read again and the outcome says why
    assert moto_stack.app.engine.pages_read == 1
    assert (response["outcomes"][0]["status"], response["outcomes"][0]["reason"]) == ("skipped", "duplicate")
    assert moto_stack.result_keys() == [f"ocr/{moto_stack.input_bucket}/dup.png.json"]


def test_a_new_version_of_the_object_is_processed_again(moto_stack):
    # Given an object read once, then overwritten with a page the engine reads otherwise
    moto_stack.app.engine.lines_by_size = {(200, 60): ["second version"]}
    first = moto_stack.upload("changing.png", blank_png())
    moto_stack.app.handle(s3_event(moto_stack, "changing.png", first), lambda_context())
    second = moto_stack.upload("changing.png", blank_png(200, 60))
    # When the overwrite's event arrives
    moto_stack.app.handle(s3_event(moto_stack, "changing.png", second), lambda_context())
    # Then the result describes the new version
    result = moto_stack.result("changing.png")
    assert (result["source"]["etag"], result["text"]) == (second, "second version")


def test_a_direct_invocation_replaces_a_result_whose_overwrite_event_was_lost(moto_stack):
    # Given a result an upload's event left, then an overwrite whose event never came
    moto_stack.app.engine.lines_by_size = {(200, 60): ["second version"]}
    first = moto_stack.upload("lost event.png", blank_png())
    moto_stack.app.handle(s3_event(moto_stack, "lost event.png", first), lambda_context())
    second = moto_stack.upload("lost event.png", blank_png(200, 60))
    # When it is reprocessed by hand, with the direct shape the manual gives for that
    response = moto_stack.app.handle({"bucket": moto_stack.input_bucket, "key": "lost event.png"}, lambda_context())
    # Then the result describes the object as it is now, not the upload before
    assert response["outcomes"][0]["status"] == "succeeded", response
    result = moto_stack.result("lost event.png")
    assert (result["source"]["etag"], result["text"]) == (second, "second version")


def test_every_page_of_a_multi_page_document_is_read_in_order(moto_stack):
    # Given a three-page TIFF whose pages the engine tells apart
    sizes = [(100, 40), (110, 40), (120, 40)]
    moto_stack.app.engine.lines_by_size = {size: [f"page {n}"] for n, size in enumerate(sizes, 1)}
    buffer = io.BytesIO()
    pages = [Image.new("RGB", size, "white") for size in sizes]
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:])
    etag = moto_stack.upload("three.tiff", buffer.getvalue())
    # When its event is handled
    moto_stack.app.handle(s3_event(moto_stack, "three.tiff", etag), lambda_context())
    # Then the pages come in document order, and so does the text
    result = moto_stack.result("three.tiff")
    assert [(p["index"], p["width"], p["text"]) for p in result["pages"]] == [
        (0, 100, "page 1"),
        (1, 110, "page 2"),
        (2, 120, "page 3"),
    ]
    assert result["text"] == "page 1\n\npage 2\n\npage 3"


def test_a_corrupt_upload_gives_a_failed_result_and_one_dead_letter(moto_stack):
    # Given a PNG cut in half
    data = blank_png()
    key = "broken scan.png"
    etag = moto_stack.upload(key, data[: len(data) // 2])
    event = s3_event(moto_stack, key, etag)
    # When its event arrives
    response = moto_stack.app.handle(event, lambda_context())
    # Then the outcome is a named failure, recorded as a result and as one dead letter
    assert response["outcomes"][0]["error_type"] == "CorruptDocumentError"
    result = moto_stack.result(key)
    result_validator().validate(result)
    assert (result["status"], result["error"]["type"]) == ("failed", "CorruptDocumentError")
    assert f"s3://{moto_stack.input_bucket}/{key}" in result["error"]["message"]
    (letter,) = moto_stack.dead_letters()
    assert (letter["error_type"], letter["attempt"]) == ("CorruptDocumentError", 1)
    assert letter["record"] == event["Records"][0]
    assert (letter["bucket"], letter["key"]) == (moto_stack.input_bucket, key)
    assert moto_stack.app.engine.attempts == 0
    # And a redelivery of the same event sends no second letter
    moto_stack.app.handle(event, lambda_context())
    assert moto_stack.dead_letters() == []


def test_an_object_that_is_gone_is_dead_lettered(moto_stack):
    event = s3_event(moto_stack, "never uploaded.png", "0" * 32)
    response = moto_stack.app.handle(event, lambda_context())
    assert response["outcomes"][0]["error_type"] == "ObjectNotFoundError"
    assert [letter["error_type"] for letter in moto_stack.dead_letters()] == ["ObjectNotFoundError"]


def test_a_document_over_the_size_limit_is_refused_without_reading_it(moto_stack):
    reconfigure(moto_stack, limits=moto_stack.settings.limits.__class__(max_object_bytes=100))
    etag = moto_stack.upload("big.png", blank_png(400, 400))
    response = moto_stack.app.handle(s3_event(moto_stack, "big.png", etag), lambda_context())
    assert response["outcomes"][0]["error_type"] == "DocumentTooLargeError"
    assert moto_stack.app.engine.attempts == 0


def test_a_transient_s3_failure_raises_and_sends_nothing_to_the_dead_letter_queue(moto_stack):
    etag = moto_stack.upload("slow.png", blank_png())
    throttle(moto_stack.app_s3, "slow.png")
    with pytest.raises(StorageUnavailableError, match="SlowDown"):
        moto_stack.app.handle(s3_event(moto_stack, "slow.png", etag), lambda_context())
    assert moto_stack.dead_letters() == [] and moto_stack.result_keys() == []


def test_every_record_of_a_multi_record_event_is_processed_even_after_a_transient_failure(moto_stack):
    # Given three uploads in one event, the second throttled by S3
    tags = {key: moto_stack.upload(key, blank_png()) for key in ("a one.png", "b slow.png", "c two.png")}
    throttle(moto_stack.app_s3, "slow")
    event = retarget(load_event("s3-put-multi.json"), moto_stack.input_bucket, "placeholder")
    for record, (key, etag) in zip(event["Records"], tags.items(), strict=True):
        record["s3"]["object"].update(key=key.replace(" ", "+"), eTag=etag)
    # When it is handled, the event is handed back for a retry
    with pytest.raises(StorageUnavailableError):
        moto_stack.app.handle(event, lambda_context())
    # Then the other two were read all the same
    assert sorted(moto_stack.result_keys()) == [
        f"ocr/{moto_stack.input_bucket}/a one.png.json",
        f"ocr/{moto_stack.input_bucket}/c two.png.json",
    ]


def test_an_sqs_batch_with_one_failing_message_reports_exactly_that_one(moto_stack):
    # Given three queued notifications, the second for an object S3 keeps throttling
    tags = {key: moto_stack.upload(key, blank_png()) for key in ("q1.png", "q2-slow.png", "q3.png")}
    throttle(moto_stack.app_s3, "slow")
    batch = sqs_wrap([s3_event(moto_stack, key, etag) for key, etag in tags.items()], receive_count=2)
    # When the batch is handled
    response = moto_stack.app.handle(batch, lambda_context())
    # Then only the second message is reported for redelivery; the others are done
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["messageId"]}]}
    assert sorted(moto_stack.result_keys()) == [
        f"ocr/{moto_stack.input_bucket}/q1.png.json",
        f"ocr/{moto_stack.input_bucket}/q3.png.json",
    ]
    assert moto_stack.dead_letters() == []


def test_a_batch_whose_every_message_fails_reports_them_all(moto_stack):
    etag = moto_stack.upload("only-slow.png", blank_png())
    throttle(moto_stack.app_s3, "slow")
    batch = sqs_wrap([s3_event(moto_stack, "only-slow.png", etag)])
    response = moto_stack.app.handle(batch, lambda_context())
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}


def test_a_malformed_sqs_message_is_dead_lettered_not_redelivered(moto_stack):
    etag = moto_stack.upload("fine.png", blank_png())
    batch = sqs_wrap(["this is not json", s3_event(moto_stack, "fine.png", etag)], receive_count=3)
    response = moto_stack.app.handle(batch, lambda_context())
    assert response == {"batchItemFailures": []}
    (letter,) = moto_stack.dead_letters()
    assert (letter["error_type"], letter["attempt"]) == ("MalformedEventError", 3)
    assert letter["record"]["body"] == "this is not json"
    assert moto_stack.result("fine.png")["status"] == "succeeded"


def test_the_s3_test_event_is_skipped_without_failing(moto_stack):
    response = moto_stack.app.handle(load_event("sqs-s3-test-event.json"), lambda_context())
    assert response == {"batchItemFailures": []}
    assert moto_stack.dead_letters() == [] and moto_stack.result_keys() == []


def test_results_of_the_function_never_trigger_it(moto_stack):
    event = retarget(load_event("s3-put.json"), moto_stack.results_bucket, "ocr/some/result.png.json")
    response = moto_stack.app.handle(event, lambda_context())
    assert response["outcomes"][0]["reason"] == "own-output"
    assert moto_stack.app.engine.attempts == 0


@pytest.mark.parametrize("fixture", ["s3-delete.json", "eventbridge-object-created.json"])
def test_a_deletion_is_skipped(moto_stack, fixture):
    # Given a deletion, as S3 notifies it and as EventBridge does
    event = json.loads(json.dumps(load_event(fixture)).replace("ocr-input", moto_stack.input_bucket))
    if "detail-type" in event:
        event["detail-type"] = "Object Deleted"
    # When it is handled, then nothing is read
    response = moto_stack.app.handle(event, lambda_context())
    assert response["outcomes"][0]["reason"] == "not-a-creation"
    assert moto_stack.app.engine.attempts == 0 and moto_stack.result_keys() == []


@pytest.mark.parametrize(
    "fixture", ["sns-s3.json", "eventbridge-object-created.json", "minio-webhook.json", "direct.json"]
)
def test_every_event_source_reaches_the_same_result(moto_stack, fixture):
    # Given the object each fixture names, uploaded for real in this test's bucket
    event = json.loads(json.dumps(load_event(fixture)).replace("ocr-input", moto_stack.input_bucket))
    (record,) = records_from_payload(event)
    etag = moto_stack.upload(record.key, blank_png())
    # The fixture's identity names another object version (the function would skip it as
    # superseded): give the event the uploaded object's
    if record.etag:
        event = json.loads(json.dumps(event).replace(record.etag, etag))
    if fixture == "eventbridge-object-created.json":
        event["detail"]["object"].pop("version-id")
    # When the event is handled
    moto_stack.app.handle(event, lambda_context())
    # Then the result is there, under the decoded key, and names the uploaded version
    result = moto_stack.result(record.key)
    assert (result["status"], result["text"], result["source"]["etag"]) == ("succeeded", TEXT, etag)


def test_a_missing_results_bucket_is_retried_not_dead_lettered(moto_stack):
    # Given a deployment whose results bucket is gone
    etag = moto_stack.upload("orphan.png", blank_png())
    moto_stack.s3.delete_bucket(Bucket=moto_stack.results_bucket)
    # When an upload's event arrives, it is handed back for a retry
    with pytest.raises(StorageUnavailableError, match="NoSuchBucket"):
        moto_stack.app.handle(s3_event(moto_stack, "orphan.png", etag), lambda_context())
    # And the document is not blamed: no dead letter
    assert moto_stack.dead_letters() == []


def test_a_text_sidecar_is_written_beside_the_json_when_asked_for(moto_stack):
    reconfigure(moto_stack, outputs=("json", "txt"))
    etag = moto_stack.upload("with text.png", blank_png())
    moto_stack.app.handle(s3_event(moto_stack, "with text.png", etag), lambda_context())
    result = moto_stack.result("with text.png")
    assert result["outputs"]["txt"] == f"ocr/{moto_stack.input_bucket}/with text.png.txt"
    sidecar = moto_stack.s3.get_object(Bucket=moto_stack.results_bucket, Key=result["outputs"]["txt"])
    assert sidecar["Body"].read().decode("utf-8") == TEXT
    assert sidecar["ContentType"].startswith("text/plain")


def test_the_uploaders_job_tag_and_outputs_override_the_defaults_for_that_object(moto_stack):
    # Given an upload whose metadata tags it and asks for its text beside the JSON
    response = moto_stack.s3.put_object(
        Bucket=moto_stack.input_bucket,
        Key="tagged scan.png",
        Body=blank_png(),
        Metadata={"ocr-job-tag": "claims:2026-11", "ocr-outputs": "txt"},
    )
    # When its event is handled
    moto_stack.app.handle(s3_event(moto_stack, "tagged scan.png", response["ETag"].strip('"')), lambda_context())
    # Then the result carries the tag and says where each output went
    result = moto_stack.result("tagged scan.png")
    assert result["job_tag"] == "claims:2026-11"
    assert set(result["outputs"]) == {"json", "txt"}
    text = moto_stack.s3.get_object(Bucket=moto_stack.results_bucket, Key=result["outputs"]["txt"])["Body"].read()
    assert text.decode("utf-8") == TEXT
    # And an upload without metadata gets the function's defaults: the JSON only
    etag = moto_stack.upload("plain.png", blank_png())
    moto_stack.app.handle(s3_event(moto_stack, "plain.png", etag), lambda_context())
    plain = moto_stack.result("plain.png")
    assert (plain["job_tag"], list(plain["outputs"])) == (None, ["json"])


def test_invalid_outputs_in_metadata_fail_the_document_naming_the_key(moto_stack):
    response = moto_stack.s3.put_object(
        Bucket=moto_stack.input_bucket, Key="odd.png", Body=blank_png(), Metadata={"ocr-outputs": "json,docx"}
    )
    outcome = moto_stack.app.handle(s3_event(moto_stack, "odd.png", response["ETag"].strip('"')), lambda_context())
    assert outcome["outcomes"][0]["error_type"] == "InvalidObjectOptionsError"
    result = moto_stack.result("odd.png")
    assert result["status"] == "failed" and "x-amz-meta-ocr-outputs" in result["error"]["message"]
    (letter,) = moto_stack.dead_letters()
    assert letter["error_type"] == "InvalidObjectOptionsError"
    assert moto_stack.app.engine.attempts == 0  # refused before any page is read


def test_each_processed_document_announces_itself_once_on_eventbridge(moto_stack):
    # Given a function that publishes completion events to the default bus, and a rule that collects them
    reconfigure(moto_stack, completion=CompletionSettings(backend="eventbridge"))
    events = boto3.client("events", region_name="us-east-1")
    queue = moto_stack.sqs.create_queue(QueueName=f"completions-{moto_stack.input_bucket}")["QueueUrl"]
    arn = moto_stack.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["bucket-ocr"]}))
    events.put_targets(Rule="all", Targets=[{"Id": "queue", "Arn": arn}])

    def delivered():
        messages = moto_stack.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    # When a good upload and a corrupt one are handled, and the good one's event comes again
    etag = moto_stack.upload("good.png", blank_png())
    moto_stack.app.handle(s3_event(moto_stack, "good.png", etag), lambda_context())
    bad_etag = moto_stack.upload("bad.png", b"\x89PNG\r\n\x1a\nnot really")
    moto_stack.app.handle(s3_event(moto_stack, "bad.png", bad_etag), lambda_context())
    duplicate = moto_stack.app.handle(s3_event(moto_stack, "good.png", etag), lambda_context())
    # Then one event each, after their results, with what a consumer needs; none for the duplicate
    assert duplicate["outcomes"][0]["reason"] == "duplicate"
    by_key = {event["detail"]["source"]["key"]: event for event in delivered()}
    assert set(by_key) == {"good.png", "bad.png"}
    good, bad = by_key["good.png"], by_key["bad.png"]
    assert (good["detail-type"], good["detail"]["status"], good["detail"]["pages"]) == (
        "OCR Document Succeeded",
        "succeeded",
        1,
    )
    assert good["detail"]["results"]["json"] == moto_stack.result("good.png")["outputs"]["json"]
    assert (bad["detail"]["status"], bad["detail"]["error"]["type"]) == ("failed", "CorruptDocumentError")
    assert delivered() == []
