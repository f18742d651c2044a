"""Dead letters: one body on every backend, the queue picked by its URL, and a queue that
cannot take a letter is a transient failure naming the object."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from bucket_ocr.errors import ConfigurationError, CorruptDocumentError, StorageUnavailableError
from bucket_ocr.failures.amqp_queue import AmqpDeadLetterQueue
from bucket_ocr.failures.dead_letters import dead_letter_body, dead_letter_queue
from bucket_ocr.failures.sqs_queue import SqsDeadLetterQueue
from bucket_ocr_local.dead_letters import describe, replay_event
from tests.support.events import load_event, sqs_wrap


def a_letter(attempt: int = 3) -> dict:
    error = CorruptDocumentError("not a PNG after all", bucket="in", key="scans/a.png")
    record = {"eventSource": "aws:s3", "s3": {"object": {"key": "scans/a.png"}}}
    return dead_letter_body(record, error, attempt=attempt, bucket="in", key="scans/a.png", result_key="ocr/a.json")


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def test_a_letter_on_sqs_carries_the_body_and_sortable_attributes(sqs):
    # given a queue
    url = sqs.create_queue(QueueName="letters-body")["QueueUrl"]
    # when a letter of a third attempt is sent
    message_id = dead_letter_queue(url, sqs).send(a_letter(attempt=3))
    # then the queue holds it as it was, with its error type and attempt beside the body
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageId"] == message_id
    body = json.loads(message["Body"])
    assert (body["error_type"], body["attempt"], body["record"]["eventSource"]) == ("CorruptDocumentError", 3, "aws:s3")
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {"error_type": "CorruptDocumentError", "attempt": "3"}


def test_a_queue_that_cannot_take_a_letter_is_a_transient_failure_naming_the_object(sqs):
    queue = SqsDeadLetterQueue(sqs, "https://sqs.us-east-1.amazonaws.com/123456789012/no-such-queue")
    with pytest.raises(StorageUnavailableError, match="no-such-queue") as raised:
        queue.send(a_letter())
    assert (raised.value.bucket, raised.value.key) == ("in", "scans/a.png")


def test_the_url_picks_the_backend_and_an_amqp_url_must_name_its_queue(sqs):
    amqp = dead_letter_queue("amqp://ocr:s3cret@rabbitmq:5672/%2F?queue=ocr-dead-letters", sqs)
    assert isinstance(amqp, AmqpDeadLetterQueue)
    assert isinstance(dead_letter_queue("https://sqs.us-east-1.amazonaws.com/1/q", sqs), SqsDeadLetterQueue)
    with pytest.raises(ConfigurationError, match="must name its queue") as refused:
        dead_letter_queue("amqp://ocr:s3cret@rabbitmq:5672/%2F", sqs)
    assert "s3cret" not in str(refused.value)


def test_a_broker_that_drops_the_connection_mid_letter_is_named_as_the_cause(monkeypatch, sqs):
    import pika.exceptions

    # given a broker that drops the connection while the letter is published
    class DroppingConnection:
        is_open = True

        def channel(self):
            return self

        def confirm_delivery(self):
            pass

        def basic_publish(self, **message):
            self.is_open = False
            raise pika.exceptions.StreamLostError("Stream connection lost: ConnectionResetError(104)")

        def close(self):  # as pika's: a closed connection cannot be closed again
            if not self.is_open:
                raise pika.exceptions.ConnectionWrongStateError("BlockingConnection.close() on a closed connection")

    monkeypatch.setattr("bucket_ocr.amqp.connection.connect", lambda address, name: DroppingConnection())
    queue = dead_letter_queue("amqp://ocr:s3cret@rabbitmq:5672/%2F?queue=ocr-dead-letters", sqs)
    # when a letter is sent, then it is a transient failure caused by the drop itself
    with pytest.raises(StorageUnavailableError, match="StreamLostError") as raised:
        queue.send(a_letter())
    assert isinstance(raised.value.__cause__, pika.exceptions.StreamLostError)


# --- the local stack's reading of the queue ---


def test_the_local_box_names_a_redriven_event_s_objects_as_the_function_reads_them():
    # given an SQS batch the queue gave up on, and the function's own letter
    batch = sqs_wrap([load_event("s3-put.json")])
    redriven = describe("m-1", json.dumps(batch), attempts=5, handle="h-1")
    own = describe("m-2", json.dumps(a_letter()), attempts=1, handle="h-2")
    # then each names the objects it is about, decoded, and is replayed as an event
    assert (redriven.kind, redriven.objects) == (
        "redrive",
        [{"bucket": "ocr-input", "key": "incoming/invoice 2026 (copy).png"}],
    )
    assert (own.kind, own.objects) == ("function", [{"bucket": "in", "key": "scans/a.png"}])
    assert replay_event(redriven) == batch
    assert replay_event(own) == {"Records": [a_letter()["record"]]}


@pytest.mark.parametrize("body", ["not json", json.dumps({"Records": [{"EventSource": "aws:sns", "Sns": 7}]})])
def test_the_local_box_names_no_object_for_a_body_that_is_no_event(body):
    letter = describe("m-1", body, attempts=5, handle="h-1")
    # then it stays a letter, about no object the function could name
    assert (letter.kind, letter.objects, letter.bucket) == ("redrive", [], None)
