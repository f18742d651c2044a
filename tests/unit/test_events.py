"""Every event shape users wire to the function, from fixtures of the real shapes."""

import json

import pytest

from bucket_ocr.errors import MalformedEventError, UnrecognizedEventError
from bucket_ocr.events import EventKind, classify, records_from_payload
from bucket_ocr.events.batch_operations import parse_batch_operation, task_result
from bucket_ocr.events.routing import records_from_sqs_body, records_in
from bucket_ocr.events.synthetic import object_created_notification, sequencer_after
from bucket_ocr.results.store import sequencer_order
from tests.support.events import load_event


def keys(event):
    return [(r.bucket, r.key) for r in records_from_payload(event)]


def test_s3_put_key_is_form_decoded():
    # Given an S3 notification whose key has "+" for spaces and %-escapes
    event = load_event("s3-put.json")
    # When it is parsed
    (record,) = records_from_payload(event)
    # Then the key is the object's real name, and identity fields come along
    assert record.key == "incoming/invoice 2026 (copy).png"
    assert record.bucket == "ocr-input"
    assert record.version_id == "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
    assert record.etag == "0123456789abcdef0123456789abcdef"
    assert record.size == 1024
    assert record.is_creation


def test_every_record_of_a_multi_record_event_is_returned():
    assert keys(load_event("s3-put-multi.json")) == [
        ("ocr-input", "scans/page one.png"),
        ("ocr-input", "scans/Señor Núñez.pdf"),
        ("ocr-input", "scans/a+b.tiff"),
    ]


def test_delete_is_parsed_but_is_not_a_creation():
    (record,) = records_from_payload(load_event("s3-delete.json"))
    assert not record.is_creation


def test_sqs_batch_is_recognised_and_its_body_holds_the_s3_records():
    event = load_event("sqs-s3.json")
    assert classify(event) is EventKind.SQS_BATCH
    (record,) = records_from_sqs_body(event["Records"][0]["body"])
    assert record.key == "queued/report final.png"


def test_s3_test_event_in_sqs_yields_no_records():
    event = load_event("sqs-s3-test-event.json")
    assert records_from_sqs_body(event["Records"][0]["body"]) == []


def test_a_non_json_sqs_body_is_a_named_error():
    event = load_event("sqs-s3-batch-one-bad.json")
    with pytest.raises(MalformedEventError, match="not JSON"):
        records_from_sqs_body(event["Records"][1]["body"])


def test_sns_wrapped_notification_is_unwrapped():
    event = load_event("sns-s3.json")
    assert classify(event) is EventKind.SNS
    assert keys(event) == [("ocr-input", "fanout/contract v2.pdf")]


def test_eventbridge_key_is_taken_literally():
    # EventBridge does not form-encode keys: a "+" in the key is a real "+"
    (record,) = records_from_payload(load_event("eventbridge-object-created.json"))
    assert record.key == "eventbridge/Señor Núñez+recibo.png"
    assert record.version_id == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert record.etag == "b1946ac92492d2347c6235b4d2611184"
    assert record.is_creation and record.origin == "eventbridge"


def test_eventbridge_deletion_is_not_a_creation():
    event = load_event("eventbridge-object-created.json")
    event["detail-type"] = "Object Deleted"
    (record,) = records_from_payload(event)
    assert not record.is_creation


@pytest.mark.parametrize("name", ["minio-record.json", "minio-webhook.json"])
def test_minio_keys_with_escaped_slashes_are_decoded(name):
    (record,) = records_from_payload(load_event(name))
    assert record.key == "minio/scans/Señor Núñez a+b.png"
    assert record.origin == "minio"
    assert record.event_name == "s3:ObjectCreated:Put" and record.is_creation


def test_minio_delete_event_name_is_not_a_creation():
    event = load_event("minio-record.json")
    event["Records"][0]["eventName"] = "s3:ObjectRemoved:Delete"
    (record,) = records_from_payload(event)
    assert not record.is_creation


def test_direct_invocation():
    (record,) = records_from_payload(load_event("direct.json"))
    assert (record.bucket, record.key, record.origin) == ("ocr-input", "manual/reprocess me.png", "direct")
    assert record.is_creation


@pytest.mark.parametrize(
    "payload",
    [[], "text", {"hello": "world"}, {"Records": [{"eventSource": "aws:dynamodb"}]}],
)
def test_unrecognised_events_are_named(payload):
    with pytest.raises(UnrecognizedEventError):
        records_from_payload(payload)


@pytest.mark.parametrize("payload", [{"bucket": "", "key": "k"}, {"bucket": "b", "key": 3}])
def test_direct_invocation_needs_string_bucket_and_key(payload):
    with pytest.raises(MalformedEventError):
        records_from_payload(payload)


@pytest.mark.parametrize(
    "payload",
    [
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}, "not a record"]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Subject": "no message"}}]},
        {"Type": "Notification", "Message": 42},
        {"Records": [load_event("sqs-s3.json")["Records"][0], {"eventSource": "aws:sqs"}]},
        {"source": "aws.s3", "detail-type": "Object Deleted", "detail": {"bucket": {"name": "b"}}},
    ],
    ids=["sns-record-not-an-object", "sns-without-message", "sns-message-not-text", "sqs-without-body", "eb-no-object"],
)
def test_a_known_envelope_with_a_field_missing_is_malformed_whatever_is_inside(payload):
    # When anything looks for the objects a broken envelope names, then it is a named event error
    with pytest.raises(MalformedEventError):
        records_in(payload)


def test_whether_an_event_asks_for_ocr_is_decided_by_its_record_alone():
    # Given EventBridge events of every detail type S3 sends, each parsed like any other
    event = load_event("eventbridge-object-created.json")
    kinds = ["Object Created", "Object Deleted", "Object Restore Completed", "Object Tags Added"]
    records = [records_from_payload({**event, "detail-type": kind})[0] for kind in kinds]
    # Then only the creation asks for OCR, and every record names its object as fully
    assert [record.is_creation for record in records] == [True, False, False, False]
    identities = {(record.bucket, record.key, record.version_id, record.etag) for record in records}
    assert len(identities) == 1 and None not in identities.pop()


def test_s3_record_missing_its_object_is_malformed():
    event = load_event("s3-put.json")
    del event["Records"][0]["s3"]["object"]
    with pytest.raises(MalformedEventError):
        records_from_payload(event)


@pytest.mark.parametrize("fixture", ["s3-batch-operations-1.0.json", "s3-batch-operations-2.0.json"])
def test_s3_batch_operations_tasks_name_their_object_in_either_schema(fixture):
    # Given S3 Batch Operations' invocation, bucket by ARN (1.0) or by name (2.0)
    event = load_event(fixture)
    # When it is classified and parsed
    invocation = parse_batch_operation(event)
    # Then it is its own kind, and its task names the object with the key URL-decoded
    assert classify(event) is EventKind.S3_BATCH_OPERATION
    (task,) = invocation.tasks
    assert task.task_id == "dGFza2lkZ29lc2hlcmUK"
    record = task.record
    assert (record.bucket, record.key) == ("ocr-input", "incoming/invoice 2026 (copy).png")
    assert record.origin == "s3-batch" and record.is_creation
    assert invocation.schema_version == event["invocationSchemaVersion"]
    assert invocation.job_id == "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"
    # and a dead letter's record is an event the function takes again (redrive)
    (again,) = records_from_payload(dict(record.raw))
    assert (again.bucket, again.key, again.version_id) == (record.bucket, record.key, record.version_id)


def test_s3_batch_operations_versions_and_user_arguments():
    one, two = (
        parse_batch_operation(load_event("s3-batch-operations-1.0.json")),
        parse_batch_operation(load_event("s3-batch-operations-2.0.json")),
    )
    assert one.tasks[0].record.version_id == "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd"
    assert two.tasks[0].record.version_id is None
    assert (one.user_arguments, two.user_arguments) == ({}, {"reason": "backfill"})


def test_s3_batch_operations_response_copies_the_invocation_and_answers_every_task():
    invocation = parse_batch_operation(load_event("s3-batch-operations-2.0.json"))
    response = invocation.response([task_result("dGFza2lkZ29lc2hlcmUK", "Succeeded", "done")])
    assert response == {
        "invocationSchemaVersion": "2.0",
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "results": [{"taskId": "dGFza2lkZ29lc2hlcmUK", "resultCode": "Succeeded", "resultString": "done"}],
    }


def test_an_s3_batch_operations_task_without_a_key_is_answered_not_raised():
    event = load_event("s3-batch-operations-2.0.json")
    del event["tasks"][0]["s3Key"]
    (task,) = parse_batch_operation(event).tasks
    assert task.record is None and "s3Key" in task.problem


@pytest.mark.parametrize("version", ["3.0", None])
def test_an_unknown_s3_batch_operations_schema_is_malformed(version):
    event = load_event("s3-batch-operations-1.0.json")
    event["invocationSchemaVersion"] = version
    with pytest.raises(MalformedEventError):
        parse_batch_operation(event)


def test_a_backfill_notification_is_an_s3_put_the_parser_reads_back():
    # Given the event a backfill sends for an object with an awkward key
    body = object_created_notification(
        "ocr-input", "a b/c+d%e ü.pdf", etag='"abc123"', version_id="v1", size=42, sequencer="0A0F"
    )
    # When it arrives in an SQS message, like an S3 notification
    (record,) = records_from_sqs_body(json.dumps(body))
    # Then the function reads exactly that object version, as a creation
    assert (record.bucket, record.key, record.etag, record.version_id, record.size) == (
        "ocr-input",
        "a b/c+d%e ü.pdf",
        "abc123",
        "v1",
        42,
    )
    assert record.sequencer == "0A0F" and record.is_creation and record.origin == "s3"


@pytest.mark.parametrize(
    "before, after", [("0A0F", "0A10"), ("00FF", "0100"), ("FF", "100"), (None, None), ("", None), ("xyz", None)]
)
def test_the_sequencer_after_a_result_orders_just_after_it(before, after):
    assert sequencer_after(before) == after
    if after:
        assert sequencer_order(after) == sequencer_order(before) + 1
