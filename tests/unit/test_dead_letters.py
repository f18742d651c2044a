"""The local stack's dead-letter box on SQS (moto): what closing it puts back, and what it may not hide."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bucket_ocr_local.dead_letters import open_box
from bucket_ocr_local.spec import StackSpec


@pytest.fixture
def spec():
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        name = f"letters-{uuid.uuid4().hex[:8]}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        for key in ("a.png", "b.png"):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"bucket": "in", "key": key}))
        yield StackSpec(
            store="moto",
            work_dir="/tmp",
            s3_endpoint="https://s3.us-east-1.amazonaws.com",
            sqs_endpoint="https://sqs.us-east-1.amazonaws.com",
            access_key="testing",
            secret_key="testing",
            input_bucket="in",
            results_bucket="out",
            dead_letter_queue_url=url,
            models_dir="/tmp",
        )


def visible(spec):
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=spec.dead_letter_queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(json.loads(message["Body"])["key"] for message in messages)


def test_closing_puts_back_what_was_read_even_when_a_letter_went_meanwhile(spec):
    # Given a box holding both letters, one of which another redrive deletes meanwhile
    sqs = boto3.client("sqs", region_name="us-east-1")
    with open_box(spec) as box:
        letters = box.peek()
        gone = next(letter for letter in letters if letter.key == "a.png")
        sqs.delete_message(QueueUrl=spec.dead_letter_queue_url, ReceiptHandle=gone.handle)
    # When the box closes, then the other letter is back in the queue, and nothing was raised
    assert visible(spec) == ["b.png"]


def test_closing_does_not_hide_a_queue_that_is_not_there(spec):
    # Given a box holding letters of a queue that is then deleted (a wrong URL, a torn-down stack)
    sqs = boto3.client("sqs", region_name="us-east-1")
    box_context = open_box(spec)
    box = box_context.__enter__()
    box.peek()
    sqs.delete_queue(QueueUrl=spec.dead_letter_queue_url)
    # When it closes, then the failure to put them back is raised, not passed over
    with pytest.raises(ClientError) as raised:
        box_context.__exit__(None, None, None)
    assert "NonExistentQueue" in str(raised.value) or "QueueDoesNotExist" in str(raised.value)
