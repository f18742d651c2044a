"""A real MinIO: uploads reach the function through bucket notifications, the webhook
dispatcher and workers; results land in MinIO, failures in the dead-letter queue."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bucket_ocr_local import dead_letters, journal
from bucket_ocr_local.event_queue import EventQueue
from bucket_ocr_local.processes import wait_for
from tests.integration.conftest import CORRUPT_PNG, invocations_of, png_of, settle, wait_for_result

pytestmark = pytest.mark.integration


def events_for(stack, bucket: str):
    queue = EventQueue(stack.spec.dispatcher.db_path)
    return [row for row in queue.rows() if any(r["s3"]["bucket"]["name"] == bucket for r in row.body.get("Records", []))]


def post_to_dispatcher(stack, body: bytes, token: str | None = None) -> tuple[int, dict]:
    dispatcher = stack.spec.dispatcher
    request = urllib.request.Request(
        dispatcher.url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token or dispatcher.auth_token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def test_an_upload_produces_its_result_json(minio_stack, minio_bucket):
    # given a bucket on MinIO whose uploads notify the dispatcher
    s3 = minio_stack.spec.client("s3")

    # when a scan is uploaded
    s3.put_object(Bucket=minio_bucket, Key="scans/invoice.png", Body=png_of("INVOICE 7731", "Total 42.00"))

    # then its result JSON appears in the results bucket, made from that upload
    result = wait_for_result(minio_stack.spec, minio_bucket, "scans/invoice.png")
    assert result["status"] == "succeeded"
    assert "INVOICE" in result["text"] and "7731" in result["text"]
    assert result["source"]["bucket"] == minio_bucket
    # and it came the MinIO way: one webhook event, stored by the dispatcher, done
    [row] = events_for(minio_stack, minio_bucket)
    assert row.status == "done" and row.body["EventName"] == "s3:ObjectCreated:Put"


def test_a_duplicate_notification_makes_one_result_and_no_second_ocr(minio_stack, minio_bucket):
    # given an upload that has been processed
    s3 = minio_stack.spec.client("s3")
    s3.put_object(Bucket=minio_bucket, Key="dup.png", Body=png_of("ONCE ONLY"))
    first = wait_for_result(minio_stack.spec, minio_bucket, "dup.png")
    [original] = events_for(minio_stack, minio_bucket)

    # when MinIO delivers the same notification again (as after a lost acknowledgement)
    status, reply = post_to_dispatcher(minio_stack, json.dumps(original.body).encode())
    assert status == 200
    queue = EventQueue(minio_stack.spec.dispatcher.db_path)
    wait_for(lambda: queue.get(reply["accepted"]).status == "done", timeout=60, what="the duplicate to be handled")

    # then the function ran twice but recognised once: the result is the first one
    assert wait_for_result(minio_stack.spec, minio_bucket, "dup.png") == first
    runs = invocations_of(minio_stack.spec, minio_bucket, "dup.png")
    assert len(runs) == 2
    outcomes = [run["response"]["outcomes"][0] for run in runs]
    assert [o["status"] for o in outcomes] == ["succeeded", "skipped"]
    assert outcomes[1]["reason"] == "duplicate"
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=minio_stack.spec.results_bucket, Prefix=f"ocr/{minio_bucket}/")["Contents"]]
    assert keys == [f"ocr/{minio_bucket}/dup.png.json"]


def test_a_corrupt_upload_gets_an_error_result_and_a_dead_letter(minio_stack, minio_bucket):
    # given a file that claims to be a PNG and is not one
    s3 = minio_stack.spec.client("s3")

    # when it is uploaded
    s3.put_object(Bucket=minio_bucket, Key="broken/scan.png", Body=CORRUPT_PNG)

    # then the result says why it failed
    result = wait_for_result(minio_stack.spec, minio_bucket, "broken/scan.png")
    assert result["status"] == "failed"
    assert result["error"]["type"] == "CorruptDocumentError"

    # and the dead-letter queue has the record, ready to redrive
    def letter():
        return next((l for l in dead_letters.peek(minio_stack.spec) if l.bucket == minio_bucket), None)

    found = wait_for(letter, timeout=30, what="the dead letter")
    assert found.kind == "function" and found.key == "broken/scan.png"
    assert found.error_type == "CorruptDocumentError"
    assert found.body["record"]["s3"]["bucket"]["name"] == minio_bucket


def test_stopping_and_restarting_the_dispatcher_loses_no_event(minio_stack, minio_bucket):
    # given a stream of uploads, part of it while the dispatcher is down
    s3 = minio_stack.spec.client("s3")
    keys = [f"stream/page-{n}.png" for n in range(5)]
    s3.put_object(Bucket=minio_bucket, Key=keys[0], Body=png_of("STREAM 0"))
    s3.put_object(Bucket=minio_bucket, Key=keys[1], Body=png_of("STREAM 1"))
    wait_for(lambda: len(events_for(minio_stack, minio_bucket)) == 2, timeout=30, what="the first two events")
    minio_stack.dispatcher.stop()
    try:
        for n in (2, 3):
            s3.put_object(Bucket=minio_bucket, Key=keys[n], Body=png_of(f"STREAM {n}"))
        settle(2)
        # MinIO cannot deliver now; it keeps the events in its queue dir
        assert len(events_for(minio_stack, minio_bucket)) == 2
    finally:
        # when the dispatcher comes back
        minio_stack.dispatcher.start()
    s3.put_object(Bucket=minio_bucket, Key=keys[4], Body=png_of("STREAM 4"))

    # then every upload has its result, each from one event
    for key in keys:
        assert wait_for_result(minio_stack.spec, minio_bucket, key)["status"] == "succeeded"
    assert sorted(r.body["Key"] for r in events_for(minio_stack, minio_bucket)) == sorted(f"{minio_bucket}/{k}" for k in keys)


@pytest.mark.parametrize(
    "key",
    ["with spaces/a scan (1).png", "plus+signs/a+b=c.png", "unicode/Señor Núñez 文書 ü.png", "mixed/ä + b & c%20d.png"],
)
def test_keys_with_spaces_plus_and_unicode_round_trip(minio_stack, minio_bucket, key):
    # given an object whose key MinIO must URL-encode in its notification
    s3 = minio_stack.spec.client("s3")

    # when it is uploaded
    s3.put_object(Bucket=minio_bucket, Key=key, Body=png_of("ROUND TRIP"))

    # then the result is filed under the exact key and names it exactly
    result = wait_for_result(minio_stack.spec, minio_bucket, key)
    assert result["status"] == "succeeded"
    assert result["source"]["key"] == key


def test_an_event_that_keeps_failing_is_retried_twice_then_dead_lettered(minio_stack):
    # given an event the function rejects on every attempt
    marker = "not-an-event-source"
    body = {"EventName": "s3:ObjectCreated:Put", "Key": "x/y", "Records": [{"eventSource": marker}]}

    # when the dispatcher accepts it
    status, reply = post_to_dispatcher(minio_stack, json.dumps(body).encode())
    assert status == 200
    queue = EventQueue(minio_stack.spec.dispatcher.db_path)
    row = wait_for(lambda: (r := queue.get(reply["accepted"])) and r.status == "dead" and r, timeout=60, what="dead-lettering")

    # then it was tried three times (Lambda async: one try, two retries)
    assert row.attempts == 3
    runs = [e for e in journal.entries(minio_stack.spec.work_dir) if e["delivery"].startswith(f"event {row.id} ")]
    assert [e["outcome"] for e in runs] == ["error"] * 3
    assert {e["error_type"] for e in runs} == {"UnrecognizedEventError"}

    # and its on-failure record, in Lambda's destination shape, is in the work dir and the queue
    record_file = minio_stack.work_dir / "dispatcher" / "dead-letters" / f"event-{row.id}.json"
    record = json.loads(record_file.read_text())
    assert record["requestPayload"] == body
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorType"] == "UnrecognizedEventError"

    def letter():
        return next((l for l in dead_letters.peek(minio_stack.spec)
                     if l.kind == "async" and l.body["requestPayload"] == body), None)

    assert wait_for(letter, timeout=20, what="the async dead letter").attempts == 3


def test_the_dispatcher_answers_pings_and_refuses_a_wrong_token(minio_stack):
    # an empty body is a target check: it must get a 2xx and store nothing
    before = len(EventQueue(minio_stack.spec.dispatcher.db_path).rows())
    assert post_to_dispatcher(minio_stack, b"")[0] == 200
    assert len(EventQueue(minio_stack.spec.dispatcher.db_path).rows()) == before
    # a sender without the token is refused the way MinIO reports as an auth problem
    assert post_to_dispatcher(minio_stack, b'{"Records": []}', token="wrong")[0] == 403
