"""The SQS record builder: a message received from SQS, as Lambda's event source mapping hands it over."""

from __future__ import annotations

import base64
import hashlib
import json

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from moto import mock_aws

from bucket_ocr.events.routing import EventKind, classify, records_in
from bucket_ocr_local.sources.sqs_source import lambda_sqs_record
from tests.support.events import load_event, retarget, sqs_wrap

LAMBDA_RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


@pytest.fixture
def received():
    """Receive a message sent with the given attributes, twice, as the event source mapping does (All)."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="records-test", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        def receive(body: str, attributes: dict) -> tuple[dict, str]:
            sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)
            for _ in range(2):
                [message] = sqs.receive_message(
                    QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"], WaitTimeSeconds=0
                )["Messages"]
            return message, arn

        yield receive


def test_a_received_message_becomes_lambdas_record(received):
    # Given an S3 notification received a second time from SQS, with message attributes of each type
    notification = json.dumps(retarget(load_event("s3-put.json"), "records-in", "scans/a b.png"))
    message, arn = received(
        notification,
        {
            "tenant": {"DataType": "String", "StringValue": "acme"},
            "pages": {"DataType": "Number", "StringValue": "3"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xffocr"},
        },
    )

    # When it is turned into Lambda's record
    record = lambda_sqs_record(message, queue_arn=arn, region="eu-west-1")

    # Then it has Lambda's keys, and survives JSON, as the runtime API sends it
    assert set(record) == LAMBDA_RECORD_KEYS
    assert json.loads(json.dumps(record)) == record
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", arn, "eu-west-1")
    # and powertools' typed view reads what the function would
    [typed] = SQSEvent({"Records": [record]}).records
    assert typed.attributes.approximate_receive_count == "2"
    assert typed.md5_of_body == hashlib.md5(notification.encode()).hexdigest()
    assert typed.message_attributes["tenant"].string_value == "acme"
    assert typed.message_attributes["pages"].data_type == "Number"
    assert base64.b64decode(typed.message_attributes["blob"].binary_value) == b"\x00\xffocr"
    assert record["messageAttributes"]["tenant"]["stringListValues"] == []
    # and the function finds the object in it
    assert classify({"Records": [record]}) is EventKind.SQS_BATCH
    assert [(r.bucket, r.key) for r in records_in({"Records": [record]})] == [("records-in", "scans/a b.png")]


def test_a_message_received_without_its_receive_count_is_refused(received):
    # Given a message as ReceiveMessage returns it without AttributeNames=["All"]
    message, arn = received("{}", {})
    del message["Attributes"]["ApproximateReceiveCount"]

    # Then no record is made from it: the function decides retries from that count
    with pytest.raises(KeyError, match="ApproximateReceiveCount"):
        lambda_sqs_record(message, queue_arn=arn, region="eu-west-1")


def test_the_tests_sqs_batches_are_built_the_same_way():
    # Given a notification wrapped into an SQS batch by the tests' helper
    notification = retarget(load_event("s3-put.json"), "records-in", "page.png")
    [record] = sqs_wrap([notification], receive_count=3)["Records"]

    # Then it is Lambda's record of that body, with its own checksum and receive count
    assert set(record) == LAMBDA_RECORD_KEYS
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert record["attributes"]["ApproximateReceiveCount"] == "3"
    assert json.loads(record["body"]) == notification


@pytest.mark.parametrize("name", ["sqs-s3.json", "sqs-s3-test-event.json", "sqs-s3-batch-one-bad.json"])
def test_every_sqs_event_fixture_carries_the_md5_of_its_own_body(name: str) -> None:
    # Given an SQS event file shared with `sam local invoke`
    records = load_event(name)["Records"]
    # Then each record's digest is its body's, as SQS computes it
    for record in records:
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode("utf-8")).hexdigest()
