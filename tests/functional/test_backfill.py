"""Backfill on moto: 200 objects already in a bucket, half of them read before.

The half already read got their results from the function itself (an app with a one-line
engine double: what is under test is which objects are sent and how, not OCR). The
command counts on a dry run, sends the other hundred to the SQS queue the function
consumes, and the function, handed those messages, reads exactly them.
"""

from __future__ import annotations

import io
import json

import pytest
from moto import mock_aws
from PIL import Image

from bucket_ocr.backfill import cli as backfill_cli
from bucket_ocr.events.routing import records_from_sqs_body
from bucket_ocr_local.runtimes.context import lambda_context
from tests.support.events import sqs_wrap
from tests.support.fake_engine import FakeEngine
from tests.support.moto_app import app_on_moto

pytestmark = pytest.mark.functional

SOURCE, RESULTS = "archive", "archive-ocr"
COUNT = 200


def page(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40 + n % 50, 20 + n // 50), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(tmp_path):
    with mock_aws():
        engine = FakeEngine()
        s3, sqs, _, app = app_on_moto(tmp_path, SOURCE, RESULTS, engine)
        events = sqs.create_queue(QueueName="backfill-events")["QueueUrl"]
        yield s3, sqs, events, app, engine


def drain(sqs, queue_url: str) -> list[dict]:
    messages = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300).get(
        "Messages"
    ):
        messages.extend(batch)
    return messages


def run(capsys, *args: str) -> tuple[int, dict]:
    capsys.readouterr()  # the function's own log lines, on stdout as on Lambda
    code = backfill_cli.main(["--bucket", SOURCE, "--prefix", "scans/", "--results-bucket", RESULTS, "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_two_hundred_objects_half_done_the_other_half_enqueued_and_read(world, capsys):
    s3, sqs, events, app, engine = world
    # Given 200 documents in the bucket, the even ones read when they were uploaded
    etags = {}
    for n in range(COUNT):
        key = f"scans/{n:03d} page.png"
        etags[key] = s3.put_object(Bucket=SOURCE, Key=key, Body=page(n))["ETag"].strip('"')
        if n % 2 == 0:
            app.handle({"bucket": SOURCE, "key": key}, lambda_context())
    undone = {key for n, key in enumerate(sorted(etags)) if n % 2 == 1}
    assert engine.pages_read == COUNT // 2

    # When the backfill runs dry
    code, summary = run(capsys, "--dry-run")
    # Then it counts what it would send, and sends nothing
    assert code == 0
    assert (summary["listed"], summary["already_done"], summary["to_enqueue"], summary["failed"]) == (200, 100, 100, 0)
    assert drain(sqs, events) == []

    # When it runs for real, to the queue the function consumes
    code, summary = run(capsys, "--to", f"sqs://{events}")
    # Then the hundred not yet read are enqueued, one S3 notification each
    assert code == 0 and (summary["enqueued"], summary["failed"]) == (100, 0)
    messages = drain(sqs, events)
    assert len(messages) == 100
    records = [record for message in messages for record in records_from_sqs_body(message["Body"])]
    assert {record.key for record in records} == undone
    # carrying each object's etag, so a second delivery is recognised as a duplicate
    assert all(record.etag == etags[record.key] and record.is_creation for record in records)

    # When the function is handed those messages, as Lambda's SQS event source would
    for start in range(0, len(messages), 10):
        response = app.handle(sqs_wrap([json.loads(m["Body"]) for m in messages[start : start + 10]]), lambda_context())
        assert response["batchItemFailures"] == []
    # Then it read each of them once, and a new backfill finds nothing left to do
    assert engine.pages_read == COUNT
    code, summary = run(capsys, "--dry-run")
    assert (summary["already_done"], summary["to_enqueue"]) == (200, 0)


def test_a_second_delivery_of_a_backfill_event_is_skipped_as_a_duplicate(world, capsys):
    s3, sqs, events, app, engine = world
    s3.put_object(Bucket=SOURCE, Key="scans/once.png", Body=page(1))
    # Given a backfill event enqueued twice (two backfills run at once)
    for _ in range(2):
        assert run(capsys, "--to", f"sqs://{events}")[0] == 0
    bodies = [json.loads(m["Body"]) for m in drain(sqs, events)]
    assert len(bodies) == 2
    # When both are handled
    response = app.handle(sqs_wrap(bodies), lambda_context())
    # Then the document was read once
    assert response["batchItemFailures"] == [] and engine.pages_read == 1
