"""The function end to end on moto: real events, real documents, real OCR, real models."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from tests.support.events import load_event, retarget, sqs_wrap
from tests.support.lambda_context import LambdaContext
from tests.support.pages import render_text_page
from tests.support.schema import result_validator

pytestmark = pytest.mark.functional

LINES = ["Invoice number 12345", "Total due 678 EUR"]
SPANISH = ["Señor Núñez pagó el recibo"]


def png(lines, **kwargs):
    buffer = io.BytesIO()
    render_text_page(lines, width=4.5, dpi=150, font_size=14, height=1.2 + 0.4 * len(lines), **kwargs).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def words_of(result):
    return result["text"].split()


def s3_event(stack, key, etag):
    return retarget(load_event("s3-put.json"), stack.input_bucket, key, etag)


def test_an_uploaded_page_comes_back_as_words_with_confidences_and_boxes(moto_stack):
    # Given a rendered page of known text, uploaded under a key with a space, "+" and unicode
    key = "incoming/Señor Núñez+factura 1.png"
    etag = moto_stack.upload(key, png(LINES))
    # When the real S3 event for it reaches the function
    response = moto_stack.app.handle(s3_event(moto_stack, key, etag), LambdaContext())
    # Then the result JSON holds those words, with confidences and boxes inside the page
    result = moto_stack.result(key)
    result_validator().validate(result)
    assert result["status"] == "succeeded"
    assert response["outcomes"][0]["status"] == "succeeded"
    for word in ("Invoice", "12345", "Total", "678", "EUR"):
        assert word in words_of(result), result["text"]
    page = result["pages"][0]
    assert len(page["lines"]) == 2
    for line in page["lines"]:
        assert 0.5 < line["confidence"] <= 1
        x0, y0, x1, y1 = line["bbox"]
        assert 0 <= x0 < x1 <= page["width"] and 0 <= y0 < y1 <= page["height"]
    assert result["source"] == {
        "bucket": moto_stack.input_bucket,
        "key": key,
        "version_id": None,
        "etag": etag,
        "size": result["source"]["size"],
        "content_type": "image/png",
    }
    assert result["timings"]["ocr_seconds"] > 0
    assert result["engine"]["packages"]["paddleocr"]


def test_a_duplicate_event_runs_no_second_ocr(moto_stack):
    key = "dup.png"
    etag = moto_stack.upload(key, png(LINES))
    event = s3_event(moto_stack, key, etag)
    moto_stack.app.handle(event, LambdaContext())
    pages_after_first = moto_stack.app.engine.pages_read
    # When the same event is delivered again (at-least-once delivery)
    response = moto_stack.app.handle(event, LambdaContext())
    # Then no page is read again and the outcome says why
    assert moto_stack.app.engine.pages_read == pages_after_first == 1
    assert response["outcomes"][0] == {**response["outcomes"][0], "status": "skipped", "reason": "duplicate"}
    assert moto_stack.result_keys() == [f"ocr/{moto_stack.input_bucket}/dup.png.json"]


def test_a_new_version_of_the_object_is_processed_again(moto_stack):
    key = "changing.png"
    first = moto_stack.upload(key, png(LINES))
    moto_stack.app.handle(s3_event(moto_stack, key, first), LambdaContext())
    second = moto_stack.upload(key, png(SPANISH))
    moto_stack.app.handle(s3_event(moto_stack, key, second), LambdaContext())
    result = moto_stack.result(key)
    assert result["source"]["etag"] == second
    assert "Núñez" in result["text"]


def test_a_corrupt_upload_gives_an_error_result_and_one_dead_letter(moto_stack):
    # Given a PNG cut in half
    data = png(LINES)
    key = "broken scan.png"
    etag = moto_stack.upload(key, data[: len(data) // 2])
    event = s3_event(moto_stack, key, etag)
    # When its event arrives
    response = moto_stack.app.handle(event, LambdaContext())
    # Then the outcome is a named failure, recorded as a result and as one dead letter
    assert response["outcomes"][0]["error_type"] == "CorruptDocumentError"
    result = moto_stack.result(key)
    result_validator().validate(result)
    assert result["status"] == "failed"
    assert result["error"]["type"] == "CorruptDocumentError"
    assert moto_stack.input_bucket in result["error"]["message"] and key in result["error"]["message"]
    (letter,) = moto_stack.dead_letters()
    assert letter["error_type"] == "CorruptDocumentError"
    assert letter["attempt"] == 1
    assert letter["record"] == event["Records"][0]
    assert (letter["bucket"], letter["key"]) == (moto_stack.input_bucket, key)
    # And a redelivery of the same event sends no second letter
    moto_stack.app.handle(event, LambdaContext())
    assert moto_stack.dead_letters() == []


def test_an_object_that_is_gone_is_dead_lettered(moto_stack):
    event = s3_event(moto_stack, "never uploaded.png", "0" * 32)
    response = moto_stack.app.handle(event, LambdaContext())
    assert response["outcomes"][0]["error_type"] == "ObjectNotFoundError"
    assert [letter["error_type"] for letter in moto_stack.dead_letters()] == ["ObjectNotFoundError"]


def reconfigure(stack, **changes):
    """The same app and clients, with some settings changed."""
    from bucket_ocr.processing import ObjectProcessor

    settings = replace(stack.settings, **changes)
    stack.app.processor = ObjectProcessor(settings, stack.app.engine, stack.app.processor._s3, stack.app.dead_letters)


def test_a_document_over_the_size_limit_is_refused_without_reading_it(moto_stack):
    reconfigure(moto_stack, limits=replace(moto_stack.settings.limits, max_object_bytes=100))
    etag = moto_stack.upload("big.png", png(LINES))
    response = moto_stack.app.handle(s3_event(moto_stack, "big.png", etag), LambdaContext())
    assert response["outcomes"][0]["error_type"] == "DocumentTooLargeError"
    assert moto_stack.app.engine.pages_read == 0


def throttle(s3_client, key_fragment: str):
    """S3 answering 503 SlowDown to every GET of matching keys, through botocore itself."""

    def respond(request, **_):
        if key_fragment not in unquote(request.url):
            return None
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return AWSResponse(request.url, 503, {}, _RawBody(body))

    s3_client.meta.events.register("before-send.s3.GetObject", respond)


class _RawBody:
    def __init__(self, data):
        self._data = data

    def stream(self, **_):
        yield self._data

    def read(self, *_):
        return self._data


def test_a_transient_s3_failure_raises_and_sends_nothing_to_the_dead_letter_queue(moto_stack):
    from bucket_ocr.errors import StorageUnavailableError

    etag = moto_stack.upload("slow.png", png(LINES))
    throttle(moto_stack.app.processor._s3, "slow.png")
    with pytest.raises(StorageUnavailableError, match="SlowDown"):
        moto_stack.app.handle(s3_event(moto_stack, "slow.png", etag), LambdaContext())
    assert moto_stack.dead_letters() == []
    assert moto_stack.result_keys() == []


def test_every_record_of_a_multi_record_event_is_processed_even_after_a_transient_failure(moto_stack):
    from bucket_ocr.errors import StorageUnavailableError

    tags = {key: moto_stack.upload(key, png(LINES)) for key in ("a one.png", "b slow.png", "c two.png")}
    throttle(moto_stack.app.processor._s3, "slow")
    event = retarget(load_event("s3-put-multi.json"), moto_stack.input_bucket, "placeholder")
    for record, (key, etag) in zip(event["Records"], tags.items(), strict=True):
        record["s3"]["object"].update(key=key.replace(" ", "+"), eTag=etag)
    with pytest.raises(StorageUnavailableError):
        moto_stack.app.handle(event, LambdaContext())
    assert sorted(moto_stack.result_keys()) == [
        f"ocr/{moto_stack.input_bucket}/a one.png.json",
        f"ocr/{moto_stack.input_bucket}/c two.png.json",
    ]


def test_an_sqs_batch_with_one_failing_message_reports_exactly_that_one(moto_stack):
    # Given three queued notifications, the second for an object S3 keeps throttling
    tags = {key: moto_stack.upload(key, png(LINES)) for key in ("q1.png", "q2-slow.png", "q3.png")}
    throttle(moto_stack.app.processor._s3, "slow")
    batch = sqs_wrap([s3_event(moto_stack, key, etag) for key, etag in tags.items()], receive_count=2)
    # When the batch is handled
    response = moto_stack.app.handle(batch, LambdaContext())
    # Then only the second message is reported for redelivery; the others are done
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["messageId"]}]}
    assert sorted(moto_stack.result_keys()) == [
        f"ocr/{moto_stack.input_bucket}/q1.png.json",
        f"ocr/{moto_stack.input_bucket}/q3.png.json",
    ]
    assert moto_stack.dead_letters() == []


def test_a_malformed_sqs_message_is_dead_lettered_not_redelivered(moto_stack):
    etag = moto_stack.upload("fine.png", png(LINES))
    batch = sqs_wrap(["this is not json", s3_event(moto_stack, "fine.png", etag)], receive_count=3)
    response = moto_stack.app.handle(batch, LambdaContext())
    assert response == {"batchItemFailures": []}
    (letter,) = moto_stack.dead_letters()
    assert letter["error_type"] == "MalformedEventError"
    assert letter["attempt"] == 3
    assert letter["record"]["body"] == "this is not json"
    assert moto_stack.result(key="fine.png")["status"] == "succeeded"


def test_the_s3_test_event_is_skipped_without_failing(moto_stack):
    response = moto_stack.app.handle(load_event("sqs-s3-test-event.json"), LambdaContext())
    assert response == {"batchItemFailures": []}
    assert moto_stack.dead_letters() == [] and moto_stack.result_keys() == []


def test_results_of_the_function_never_trigger_it(moto_stack):
    # Given an event for a key under the results prefix in the results bucket
    key = "ocr/some/result.png.json"
    event = retarget(load_event("s3-put.json"), moto_stack.results_bucket, key)
    response = moto_stack.app.handle(event, LambdaContext())
    assert response["outcomes"][0]["reason"] == "own-output"
    assert moto_stack.app.engine.pages_read == 0


def test_a_deletion_is_skipped(moto_stack):
    event = load_event("s3-delete.json")
    event["Records"][0]["s3"]["bucket"]["name"] = moto_stack.input_bucket
    response = moto_stack.app.handle(event, LambdaContext())
    assert response["outcomes"][0]["reason"] == "not-a-creation"


@pytest.mark.parametrize(
    "fixture", ["sns-s3.json", "eventbridge-object-created.json", "minio-webhook.json", "direct.json"]
)
def test_every_event_source_reaches_the_same_result(moto_stack, fixture):
    # Given the object each fixture names, uploaded for real in this test's bucket
    event = load_event(fixture)
    text = json.dumps(event).replace("ocr-input", moto_stack.input_bucket)
    event = json.loads(text)
    from bucket_ocr.events import records_from_payload

    (record,) = records_from_payload(event)
    etag = moto_stack.upload(record.key, png(LINES))
    # The fixture's identity names another object version (the function would skip it as
    # superseded): give the event the uploaded object's
    if record.etag:
        event = json.loads(json.dumps(event).replace(record.etag, etag))
    if fixture == "eventbridge-object-created.json":
        event["detail"]["object"].pop("version-id")
    # When the event is handled
    moto_stack.app.handle(event, LambdaContext())
    # Then the result is there, under the decoded key
    result = moto_stack.result(record.key)
    assert result["status"] == "succeeded" and "12345" in result["text"]


def test_every_page_of_a_pdf_and_a_tiff_is_read_in_order(moto_stack):
    for key, fmt, options in (("two pages.pdf", "PDF", {"resolution": 150}), ("two pages.tiff", "TIFF", {})):
        # Fresh images per format: Pillow's PDF writer leaves state on the images it saved
        pages = [
            render_text_page([text], width=4, height=1.5, dpi=150, font_size=14)
            for text in ("First page 111", "Second page 222")
        ]
        buffer = io.BytesIO()
        pages[0].save(buffer, fmt, save_all=True, append_images=pages[1:], **options)
        etag = moto_stack.upload(key, buffer.getvalue())
        moto_stack.app.handle(s3_event(moto_stack, key, etag), LambdaContext())
        result = moto_stack.result(key)
        assert [p["index"] for p in result["pages"]] == [0, 1], key
        assert "111" in result["pages"][0]["text"] and "222" in result["pages"][1]["text"], key
        assert result["text"].index("111") < result["text"].index("222")


def test_a_batch_whose_every_message_fails_reports_them_all(moto_stack):
    etag = moto_stack.upload("only-slow.png", png(LINES))
    throttle(moto_stack.app.processor._s3, "slow")
    batch = sqs_wrap([s3_event(moto_stack, "only-slow.png", etag)])
    response = moto_stack.app.handle(batch, LambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}


def test_a_missing_results_bucket_is_retried_not_dead_lettered(moto_stack):
    from bucket_ocr.errors import StorageUnavailableError

    # Given a deployment whose results bucket is gone
    etag = moto_stack.upload("orphan.png", png(LINES))
    moto_stack.s3.delete_bucket(Bucket=moto_stack.results_bucket)
    # When an upload's event arrives, it is handed back for a retry
    with pytest.raises(StorageUnavailableError, match="NoSuchBucket"):
        moto_stack.app.handle(s3_event(moto_stack, "orphan.png", etag), LambdaContext())
    # And the document is not blamed: no dead letter
    assert moto_stack.dead_letters() == []


def test_a_text_sidecar_is_written_beside_the_json_when_asked_for(moto_stack):
    reconfigure(moto_stack, outputs=("json", "txt"))
    etag = moto_stack.upload("with text.png", png(LINES))
    moto_stack.app.handle(s3_event(moto_stack, "with text.png", etag), LambdaContext())
    text_key = f"ocr/{moto_stack.input_bucket}/with text.png.txt"
    sidecar = moto_stack.s3.get_object(Bucket=moto_stack.results_bucket, Key=text_key)
    assert sidecar["Body"].read().decode("utf-8") == moto_stack.result("with text.png")["text"]
    assert sidecar["ContentType"].startswith("text/plain")


def test_the_uploaders_job_tag_and_outputs_override_the_defaults_for_that_object(moto_stack):
    # Given an upload whose metadata tags it and asks for its text beside the JSON
    response = moto_stack.s3.put_object(
        Bucket=moto_stack.input_bucket,
        Key="tagged scan.png",
        Body=png(LINES),
        Metadata={"ocr-job-tag": "claims:2026-11", "ocr-outputs": "txt"},
    )
    # When its event is handled
    moto_stack.app.handle(s3_event(moto_stack, "tagged scan.png", response["ETag"].strip('"')), LambdaContext())
    # Then the result carries the tag and says where each output went
    result = moto_stack.result("tagged scan.png")
    assert result["job_tag"] == "claims:2026-11"
    assert set(result["outputs"]) == {"json", "txt"}
    text = moto_stack.s3.get_object(Bucket=moto_stack.results_bucket, Key=result["outputs"]["txt"])["Body"].read()
    assert text.decode("utf-8") == result["text"]
    # And an upload without metadata gets the function's defaults: the JSON only
    etag = moto_stack.upload("plain.png", png(LINES))
    moto_stack.app.handle(s3_event(moto_stack, "plain.png", etag), LambdaContext())
    assert (moto_stack.result("plain.png")["job_tag"], list(moto_stack.result("plain.png")["outputs"])) == (
        None,
        ["json"],
    )


def test_invalid_outputs_in_metadata_fail_the_document_naming_the_key(moto_stack):
    response = moto_stack.s3.put_object(
        Bucket=moto_stack.input_bucket, Key="odd.png", Body=png(LINES), Metadata={"ocr-outputs": "json,docx"}
    )
    outcome = moto_stack.app.handle(s3_event(moto_stack, "odd.png", response["ETag"].strip('"')), LambdaContext())
    assert outcome["outcomes"][0]["error_type"] == "InvalidObjectOptionsError"
    result = moto_stack.result("odd.png")
    assert result["status"] == "failed" and "x-amz-meta-ocr-outputs" in result["error"]["message"]
    [letter] = moto_stack.dead_letters()
    assert letter["error_type"] == "InvalidObjectOptionsError"


def _completion_queue(stack):
    """An SQS queue that an EventBridge rule on the default bus fills with every bucket-ocr event."""
    events = boto3.client("events", region_name="us-east-1")
    url = stack.sqs.create_queue(QueueName=f"completions-{stack.input_bucket}")["QueueUrl"]
    arn = stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=f"all-{stack.input_bucket}", EventPattern=json.dumps({"source": ["bucket-ocr"]}))
    events.put_targets(Rule=f"all-{stack.input_bucket}", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def _events_in(stack, url):
    messages = stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def test_each_processed_document_announces_itself_once_on_eventbridge(moto_stack):
    # Given a function that publishes completion events to the default bus, and a rule that collects them
    from bucket_ocr.completion.settings import CompletionSettings

    reconfigure(moto_stack, completion=CompletionSettings(backend="eventbridge"))
    queue = _completion_queue(moto_stack)
    # When a good upload and a corrupt one are handled, and the good one's event comes again
    etag = moto_stack.upload("good.png", png(LINES))
    moto_stack.app.handle(s3_event(moto_stack, "good.png", etag), LambdaContext())
    bad_etag = moto_stack.upload("bad.png", b"\x89PNG\r\n\x1a\nnot really")
    moto_stack.app.handle(s3_event(moto_stack, "bad.png", bad_etag), LambdaContext())
    duplicate = moto_stack.app.handle(s3_event(moto_stack, "good.png", etag), LambdaContext())
    # Then one event each, after their results, with what a consumer needs; none for the duplicate
    assert duplicate["outcomes"][0]["reason"] == "duplicate"
    delivered = {event["detail"]["source"]["key"]: event for event in _events_in(moto_stack, queue)}
    assert set(delivered) == {"good.png", "bad.png"}
    good, bad = delivered["good.png"], delivered["bad.png"]
    assert (good["detail-type"], good["detail"]["status"], good["detail"]["pages"]) == (
        "OCR Document Succeeded",
        "succeeded",
        1,
    )
    assert good["detail"]["results"]["json"] == moto_stack.result("good.png")["outputs"]["json"]
    assert (bad["detail"]["status"], bad["detail"]["error"]["type"]) == ("failed", "CorruptDocumentError")
    assert _events_in(moto_stack, queue) == []


def test_a_searchable_pdf_and_hocr_are_written_beside_the_json_when_asked_for(moto_stack):
    import pypdfium2

    # Given a function asked for every output, and a scanned PDF
    reconfigure(moto_stack, outputs=("json", "txt", "pdf", "hocr"))
    scan = render_text_page(LINES, dpi=150, font_size=14, height=3.0)
    buffer = io.BytesIO()
    scan.save(buffer, format="PDF", resolution=150)
    etag = moto_stack.upload("scan.pdf", buffer.getvalue())
    # When its event is handled
    moto_stack.app.handle(s3_event(moto_stack, "scan.pdf", etag), LambdaContext())
    # Then the result lists each output, and the PDF's text layer says what the JSON says
    result = moto_stack.result("scan.pdf")
    assert set(result["outputs"]) == {"json", "txt", "pdf", "hocr"}

    def body(kind):
        return moto_stack.s3.get_object(Bucket=moto_stack.results_bucket, Key=result["outputs"][kind])

    pdf = pypdfium2.PdfDocument(body("pdf")["Body"].read())
    extracted = pdf[0].get_textpage().get_text_range()
    assert extracted.split() == result["text"].split()
    assert body("pdf")["ContentType"] == "application/pdf"
    hocr = body("hocr")["Body"].read().decode("utf-8")
    assert "ocrx_word" in hocr and all(word in hocr for word in result["text"].split())
