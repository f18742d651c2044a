"""A real MinIO publishing to a real RabbitMQ, consumed by `bucket-ocr-worker` processes.

The self-hosted topology of infra/compose, on 127.0.0.1: uploads reach the workers through
MinIO's AMQP target and a quorum queue; results land in MinIO; permanent failures and
messages past the delivery limit land in the dead-letter queue on the broker.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from bucket_ocr.amqp import connect, parse_amqp_url
from bucket_ocr_local import dead_letters, function_logs
from bucket_ocr_local.processes import ManagedProcess, wait_for
from bucket_ocr_local.supervisor import Supervisor
from bucket_ocr_local.worker import self_hosted_worker_environment
from tests.integration.conftest import CORRUPT_PNG, pdf_of, png_of, read_result, require_binary, wait_for_result
from tests.support.failing_objects import FLAG_DIR_VARIABLE, flag_path, held
from tests.support.rabbitmq import management_get, require_rabbitmq_server
from tests.support.waits import eventually

pytestmark = pytest.mark.integration


def queue_depth(stack, queue: str) -> dict[str, int]:
    """Ready and unacknowledged messages, from the management API."""
    status, body = management_get(stack.broker, f"/api/queues/%2F/{queue}")
    assert status == 200, status
    return {"ready": body.get("messages_ready", 0), "unacked": body.get("messages_unacknowledged", 0)}


SETTLED = {"ready": 0, "unacked": 0}


def settled(stack, queue: str) -> dict[str, int]:
    """Wait until the management API shows the queue empty (its figures lag by up to 5 s)."""
    return eventually(
        lambda: queue_depth(stack, queue), until=lambda depth: depth == SETTLED, timeout=60, what=f"{queue} to settle"
    )


def pool_logs(stack) -> str:
    return "\n".join(
        path.read_text(errors="replace") for path in (Path(stack.spec.work_dir) / "logs").glob("worker-*.log")
    )


def queue_passed(stack, logs: Callable[[], str], *, exchange: str = "bucket-ocr") -> None:
    """Wait until a marker published now has been taken: the queue has moved past what it held.

    For a queue with one consumer left. A message handed back to the queue (its worker gone
    or disconnected before acknowledging) goes to that consumer ahead of newer ones, and it
    takes one message at a time (prefetch 1); so once it has taken the marker, a message
    the queue held before has been delivered again, and logged, or it was acknowledged.
    No management figures (they lag by up to 5 s) and no fixed pause.
    """
    marker = f"marker-{uuid.uuid4().hex}"
    publish(stack, b"", exchange=exchange, message_id=marker)
    eventually(
        lambda: [line for line in logs().splitlines() if marker in line and "empty message" in line],
        timeout=120,
        what=f"a worker to take the marker message {marker}",
    )


def publish(
    stack, body: bytes, *, routing_key: str = "uploads", exchange: str = "bucket-ocr", message_id: str | None = None
) -> None:
    """A message as MinIO would publish it (used for shapes an upload cannot produce)."""
    import pika

    with closing(connect(parse_amqp_url(stack.spec.broker_url, variable="broker"), name="test")) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange, routing_key, body, pika.BasicProperties(delivery_mode=2, message_id=message_id), mandatory=True
        )


def letters_for(stack, bucket: str, key: str) -> list[dead_letters.DeadLetter]:
    return [letter for letter in dead_letters.peek(stack.spec) if {"bucket": bucket, "key": key} in letter.objects]


def deliveries_of(stack, bucket: str, key: str) -> list[dict[str, Any]]:
    return function_logs.about(stack.spec.work_dir, function_logs.RECEIVED, bucket, key)


def test_an_upload_produces_its_result_json(minio_stack, minio_bucket):
    # given a bucket on MinIO whose uploads are published to RabbitMQ
    s3 = minio_stack.spec.client("s3")

    # when a scan is uploaded
    s3.put_object(Bucket=minio_bucket, Key="scans/invoice.png", Body=png_of("INVOICE 7731", "Total 42.00"))

    # then its result JSON appears in the results bucket, made from that upload
    result = wait_for_result(minio_stack.spec, minio_bucket, "scans/invoice.png")
    assert result["status"] == "succeeded"
    assert "INVOICE" in result["text"] and "7731" in result["text"]
    assert result["source"]["bucket"] == minio_bucket
    # and it came the broker way: one delivery of MinIO's event to a bucket-ocr-worker
    [delivery] = deliveries_of(minio_stack, minio_bucket, "scans/invoice.png")
    assert delivery["attempt"] == 1
    assert function_logs.ocr_runs(minio_stack.spec.work_dir, minio_bucket, "scans/invoice.png") == 1


def test_fifty_uploads_with_two_workers_are_each_read_exactly_once(minio_stack, minio_bucket):
    # given two workers on one queue
    s3 = minio_stack.spec.client("s3")
    keys = [f"batch/doc-{n:02d}.png" for n in range(50)]

    # when fifty documents are uploaded at once
    for n, key in enumerate(keys):
        s3.put_object(Bucket=minio_bucket, Key=key, Body=png_of(f"DOCUMENT {n:02d}"))

    # then each has its result
    for n, key in enumerate(keys):
        result = wait_for_result(minio_stack.spec, minio_bucket, key, timeout=300)
        assert result["status"] == "succeeded" and f"{n:02d}" in result["text"]
    # and the engine read each exactly once, the work shared between both workers
    runs = Counter()
    workers = set()
    for record in function_logs.records(minio_stack.spec.work_dir):
        if record.get("message") == function_logs.RECOGNISED and record.get("bucket") == minio_bucket:
            runs[record["key"]] += 1
            workers.add(record["log_file"])
    assert runs == Counter({key: 1 for key in keys})
    assert len(workers) == 2
    # and nothing is left in any queue
    settled(minio_stack, "ocr-work")
    assert not [letter for letter in dead_letters.peek(minio_stack.spec) if letter.bucket == minio_bucket]


@contextmanager
def worker_holding_a_document(
    stack, bucket: str, key: str, pages: int
) -> Iterator[tuple[ManagedProcess, Callable[[], None]]]:
    """The pool's worker that took a freshly uploaded multi-page PDF, and ``release``.

    The document waits in that worker's handler (tests/support/failing_handler.py) until the
    test calls ``release``, so it is still in hand when the test acts on the worker, however
    fast the machine reads. The worker is replaced afterwards.
    """
    with held(stack.options.function_env[FLAG_DIR_VARIABLE], bucket, key) as hold:
        stack.spec.client("s3").put_object(
            Bucket=bucket, Key=key, Body=pdf_of([[f"LONG PAGE {n}", "lorem ipsum dolor"] for n in range(pages)])
        )
        [delivery] = wait_for(lambda: deliveries_of(stack, bucket, key), timeout=60, what="a worker to take the PDF")
        worker = next(w for w in stack.pool.workers if w.log_path.name == delivery["log_file"])
        try:
            yield worker, functools.partial(hold.unlink, missing_ok=True)
        finally:
            hold.unlink(missing_ok=True)
            stack.pool.workers.remove(worker)
            stack.pool.add()
            stack.pool.wait_ready()


def test_a_worker_killed_mid_document_leaves_it_to_another(minio_stack, minio_bucket):
    # given a document in the hands of one of the workers
    key = "long/report.pdf"
    with worker_holding_a_document(minio_stack, minio_bucket, key, pages=3) as (victim, release):
        # when that worker is killed outright
        os.kill(victim.pid, signal.SIGKILL)
        release()

        # then the broker hands the message to the other worker, which reads it
        result = wait_for_result(minio_stack.spec, minio_bucket, key, timeout=180)
        assert result["status"] == "succeeded" and len(result["pages"]) == 3
        assert sorted(d["attempt"] for d in deliveries_of(minio_stack, minio_bucket, key)) == [1, 2]
        # and the document was recognised once, by the survivor
        [run] = function_logs.about(minio_stack.spec.work_dir, function_logs.RECOGNISED, minio_bucket, key)
        assert run["log_file"] != victim.log_path.name


def test_sigterm_lets_a_worker_finish_the_document_in_hand(minio_stack, minio_bucket):
    # given a document in the hands of one of the workers
    key = "long/handbook.pdf"
    with worker_holding_a_document(minio_stack, minio_bucket, key, pages=3) as (worker, release):
        # when that worker is asked to stop, and has taken the request, before it reads the document
        worker.signal(signal.SIGTERM)
        eventually(
            lambda: "stop requested" in worker.log_path.read_text(), timeout=30, what="the worker to take the stop"
        )
        release()
        code = worker.wait(180)

        # then it finished the document first, acknowledged it and exited cleanly
        assert code == 0, worker.log_tail()
        assert read_result(minio_stack.spec, minio_bucket, key)["status"] == "succeeded"
        [run] = function_logs.about(minio_stack.spec.work_dir, function_logs.RECOGNISED, minio_bucket, key)
        assert run["log_file"] == worker.log_path.name
        # and nobody reads it again: the queue moves past it with that one delivery
        queue_passed(minio_stack, lambda: pool_logs(minio_stack))
        assert len(deliveries_of(minio_stack, minio_bucket, key)) == 1


@contextmanager
def worker_of_its_own(stack, bucket: str, log_dir: Path, **env: str) -> Iterator[tuple[ManagedProcess, dict[str, str]]]:
    """One more `bucket-ocr-worker run`, on a queue and exchange no other worker reads."""
    names = {"OCR_WORK_EXCHANGE": f"own-{bucket}", "OCR_WORK_QUEUE": f"own-{bucket}"}
    process = ManagedProcess(
        "own-worker",
        [sys.executable, "-m", "bucket_ocr.worker", "run", "--name", "own-worker"],
        log_path=log_dir / "own-worker.log",
        env=self_hosted_worker_environment(stack.spec, **names, **env),
    ).start()
    try:
        # Consuming, not only ready: "ready" comes before the worker declares its queue, and a
        # test that deleted the queue or published to the exchange in between would race it.
        process.wait_until(
            lambda: '"message":"consuming"' in process.log_path.read_text(), timeout=180, what="consuming"
        )
        yield process, names
    finally:
        process.stop(grace=30)


def minio_put_event(bucket: str, key: str) -> bytes:
    return json.dumps(
        {
            "EventName": "s3:ObjectCreated:Put",
            "Key": f"{bucket}/{key}",
            "Records": [
                {
                    "eventVersion": "2.0",
                    "eventSource": "minio:s3",
                    "eventName": "s3:ObjectCreated:Put",
                    "s3": {"bucket": {"name": bucket}, "object": {"key": key}},
                }
            ],
        }
    ).encode()


def test_a_handler_call_longer_than_the_heartbeat_keeps_the_connection(minio_stack, minio_bucket, tmp_path):
    # given a worker with a 2 s heartbeat whose handler takes 12 s
    slow_env = {"OCR_BROKER_URL": f"{minio_stack.spec.broker_url}?heartbeat=2", "OCR_TEST_SLOW_SECONDS": "12"}
    with worker_of_its_own(minio_stack, minio_bucket, tmp_path, **slow_env) as (slow, names):
        minio_stack.spec.client("s3").put_object(Bucket=minio_bucket, Key="slow.png", Body=png_of("SLOW BUT STEADY"))

        # when the event arrives on its queue
        publish(minio_stack, minio_put_event(minio_bucket, "slow.png"), exchange=names["OCR_WORK_EXCHANGE"])

        # then the result is written and the message settled on its one delivery: the
        # connection lived through six heartbeat intervals while the handler ran
        assert wait_for_result(minio_stack.spec, minio_bucket, "slow.png", timeout=120)["status"] == "succeeded"
        queue_passed(minio_stack, slow.log_path.read_text, exchange=names["OCR_WORK_EXCHANGE"])
        log = slow.log_path.read_text()
        assert log.count('"message":"event received"') == 1
        assert "broker unavailable" not in log


def test_a_worker_whose_queue_is_deleted_declares_it_again_and_goes_on(minio_stack, minio_bucket, tmp_path):
    # given a worker consuming its queue
    with worker_of_its_own(minio_stack, minio_bucket, tmp_path) as (worker, names):
        # when an operator deletes the queue under it
        with closing(
            connect(parse_amqp_url(minio_stack.spec.broker_url, variable="broker"), name="test")
        ) as connection:
            connection.channel().queue_delete(names["OCR_WORK_QUEUE"])

        # then the worker notices its consumer was cancelled, reconnects and declares it again
        wait_for(
            lambda: worker.log_path.read_text().count('"message":"consuming"') == 2, timeout=180, what="a new consumer"
        )
        assert "ConsumerCancelled" in worker.log_path.read_text()
        # and events reach it as before
        minio_stack.spec.client("s3").put_object(Bucket=minio_bucket, Key="after.png", Body=png_of("AFTER THE DELETE"))
        publish(minio_stack, minio_put_event(minio_bucket, "after.png"), exchange=names["OCR_WORK_EXCHANGE"])
        assert wait_for_result(minio_stack.spec, minio_bucket, "after.png")["status"] == "succeeded"


RECONNECTING = "broker unavailable: reconnecting"


def reconnect_attempts(stack) -> dict[str, int]:
    """Failed connection attempts so far, by worker log file, for the pool's current workers."""
    attempts = Counter(
        record["log_file"]
        for record in function_logs.records(stack.spec.work_dir)
        if record.get("message") == RECONNECTING
    )
    return {worker.log_path.name: attempts[worker.log_path.name] for worker in stack.pool.workers}


def undelivered_events(stack) -> int:
    """Events MinIO keeps on its disk (the AMQP target's queue_dir) until the broker takes them."""
    queue_dir = Path(stack.spec.work_dir) / "minio" / "undelivered-events"
    return sum(1 for path in queue_dir.rglob("*") if path.is_file())


def test_uploads_while_the_broker_is_down_are_all_read_when_it_is_back(minio_stack, minio_bucket):
    # given the broker stopped while uploads go on, until every worker has failed to
    # reconnect three times (backing off 1, 2, 4 s) and MinIO keeps each event on its disk
    s3 = minio_stack.spec.client("s3")
    keys = [f"outage/page-{n}.png" for n in range(6)]
    s3.put_object(Bucket=minio_bucket, Key=keys[0], Body=png_of("OUTAGE 0"))
    wait_for_result(minio_stack.spec, minio_bucket, keys[0])
    before = reconnect_attempts(minio_stack)
    minio_stack.broker.stop()
    try:
        for n in range(1, 5):
            s3.put_object(Bucket=minio_bucket, Key=keys[n], Body=png_of(f"OUTAGE {n}"))
            eventually(
                lambda: undelivered_events(minio_stack),
                until=lambda kept, n=n: kept >= n,
                timeout=30,
                what=f"MinIO to keep {n} event(s) on disk",
            )
        eventually(
            lambda: reconnect_attempts(minio_stack),
            until=lambda now: all(now[name] >= before.get(name, 0) + 3 for name in now),
            timeout=60,
            what="every worker to fail to reconnect three times",
        )
        assert all(read_result(minio_stack.spec, minio_bucket, k) is None for k in keys[1:5])
    finally:
        # when it is started again
        minio_stack.broker.start()
    s3.put_object(Bucket=minio_bucket, Key=keys[5], Body=png_of("OUTAGE 5"))

    # then every upload has its result: MinIO kept the events on its disk meanwhile
    for key in keys:
        assert wait_for_result(minio_stack.spec, minio_bucket, key, timeout=180)["status"] == "succeeded"
        assert function_logs.ocr_runs(minio_stack.spec.work_dir, minio_bucket, key) == 1


def test_a_corrupt_upload_is_dead_lettered_at_once_with_its_error_result(minio_stack, minio_bucket):
    # given a file that claims to be a PNG and is not one
    s3 = minio_stack.spec.client("s3")

    # when it is uploaded
    s3.put_object(Bucket=minio_bucket, Key="broken/scan.png", Body=CORRUPT_PNG)

    # then the result says why it failed
    result = wait_for_result(minio_stack.spec, minio_bucket, "broken/scan.png")
    assert result["status"] == "failed"
    assert result["error"]["type"] == "CorruptDocumentError"
    # and the dead-letter queue on the broker has the function's letter, after one delivery
    [letter] = wait_for(
        lambda: letters_for(minio_stack, minio_bucket, "broken/scan.png"), timeout=30, what="the dead letter"
    )
    assert letter.kind == "function" and letter.error_type == "CorruptDocumentError"
    assert letter.body["record"]["s3"]["bucket"]["name"] == minio_bucket
    assert len(deliveries_of(minio_stack, minio_bucket, "broken/scan.png")) == 1


def test_a_document_failing_on_every_delivery_is_dead_lettered_by_the_broker_then_redriven(
    minio_stack, minio_bucket, failing_objects_dir
):
    # given an object whose storage fails on every try
    s3 = minio_stack.spec.client("s3")
    key = "flaky/scan.png"
    flag = flag_path(failing_objects_dir, minio_bucket, key)
    flag.touch()
    try:
        # when it is uploaded
        s3.put_object(Bucket=minio_bucket, Key=key, Body=png_of("EVENTUALLY READ"))

        # then RabbitMQ delivers it until the delivery limit, then moves MinIO's event to the dead-letter queue
        [letter] = wait_for(
            lambda: letters_for(minio_stack, minio_bucket, key), timeout=120, what="the broker's dead letter"
        )
        assert letter.kind == "redrive" and letter.body["Records"][0]["s3"]["bucket"]["name"] == minio_bucket
        limit = minio_stack.spec.delivery_limit
        deliveries = sorted(deliveries_of(minio_stack, minio_bucket, key), key=lambda d: d["attempt"])
        assert [d["attempt"] for d in deliveries] == list(range(1, limit + 2))
        # each after a pause twice the one before (OCR_WORKER_RETRY_PAUSE_MS=100 here), so
        # an outage of a few seconds cannot use up the limit
        received = [dt.datetime.strptime(d["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp() for d in deliveries]
        gaps = [later - earlier for earlier, later in itertools.pairwise(received)]
        assert all(gap >= 0.1 * 2**n for n, gap in enumerate(gaps)), gaps
        assert read_result(minio_stack.spec, minio_bucket, key) is None
    finally:
        # when the storage is back and the letters are redriven
        flag.unlink()
    with dead_letters.open_box(minio_stack.spec) as box:
        mine = [letter for letter in box.peek() if {"bucket": minio_bucket, "key": key} in letter.objects]
        assert box.redrive(mine) == 1

    # then the document is read, and its letter is gone
    assert wait_for_result(minio_stack.spec, minio_bucket, key)["status"] == "succeeded"
    assert letters_for(minio_stack, minio_bucket, key) == []


def test_empty_messages_and_non_create_events_are_acknowledged_and_ignored(minio_stack, minio_bucket):
    # given an empty message and a MinIO deletion event for an object in the bucket
    deletion = {
        "EventName": "s3:ObjectRemoved:Delete",
        "Key": f"{minio_bucket}/gone.png",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventName": "s3:ObjectRemoved:Delete",
                "s3": {"bucket": {"name": minio_bucket}, "object": {"key": "gone.png", "sequencer": "1"}},
            }
        ],
    }

    # when both arrive on the work queue
    empty = f"empty-{minio_bucket}"
    publish(minio_stack, b"", message_id=empty)
    publish(minio_stack, json.dumps(deletion).encode())

    # then the empty one is acknowledged without a call of the function
    eventually(
        lambda: [line for line in pool_logs(minio_stack).splitlines() if empty in line and "empty message" in line],
        timeout=30,
        what="the empty message to be acknowledged",
    )
    # and the deletion is handled once, with nothing dead-lettered and no result written
    eventually(lambda: handled(minio_stack, minio_bucket, "gone.png"), timeout=30, what="the deletion to be handled")
    assert len(deliveries_of(minio_stack, minio_bucket, "gone.png")) == 1
    assert letters_for(minio_stack, minio_bucket, "gone.png") == []
    assert read_result(minio_stack.spec, minio_bucket, "gone.png") is None


def test_a_message_that_is_not_an_event_is_dead_lettered_as_it_came(minio_stack):
    # given a body no notification source sends
    body = b"this is not json " + os.urandom(4).hex().encode()

    # when it arrives on the work queue
    publish(minio_stack, body)

    # then it is dead-lettered at once, with the body as it came, and never retried
    def letter():
        return next(
            (
                found
                for found in dead_letters.peek(minio_stack.spec)
                if found.kind == "function" and found.body["record"].get("body") == body.decode()
            ),
            None,
        )

    found = wait_for(letter, timeout=30, what="the dead letter")
    assert found.error_type == "MalformedEventError"
    assert found.body["record"]["eventSource"] == "amqp"


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


def test_a_stopped_minio_is_started_again_and_a_new_stack_reopens_the_kept_data(start_stack, tmp_path):
    # given a MinIO stack of its own, under the supervisor `up` runs, with one document read
    require_binary("minio")
    require_rabbitmq_server()
    work_dir = tmp_path / "kept"
    stack = start_stack(store="minio", workers=1, work_dir=work_dir)
    spec = stack.spec
    spec.client("s3").put_object(Bucket=spec.input_bucket, Key="before.png", Body=png_of("BEFORE 1111"))
    assert wait_for_result(spec, spec.input_bucket, "before.png")["status"] == "succeeded"

    # and an upload that MinIO stored without an event (as it may in the moments after a
    # restart; made certain here by a bucket whose notification rule is removed)
    stack.add_input_bucket("quiet-bucket")
    spec.client("s3").put_bucket_notification_configuration(Bucket="quiet-bucket", NotificationConfiguration={})
    spec.client("s3").put_object(Bucket="quiet-bucket", Key="no-event.png", Body=png_of("SILENT 4444"))

    with Supervisor(stack, interval=0.2, report=lambda action: None) as supervisor:
        wait_for(lambda: supervisor._minio_pid, timeout=10, what="the supervisor to see MinIO")
        # when MinIO dies
        stack.minio.process.kill()

        # then it is started again on its data dir, and uploads are read as before
        wait_for(lambda: supervisor.actions, timeout=60, what="the supervisor to notice")
        stack.minio.process.wait_until(stack.minio._ready, timeout=60, what="ready again")
        spec.client("s3").put_object(Bucket=spec.input_bucket, Key="after-restart.png", Body=png_of("AFTER 2222"))
        assert wait_for_result(spec, spec.input_bucket, "after-restart.png")["status"] == "succeeded"
        # and what was written around the restart without a result is announced again and read
        assert wait_for_result(spec, "quiet-bucket", "no-event.png")["status"] == "succeeded"
    assert supervisor.actions[0] == "minio had stopped; started it again on its data dir"
    assert "minio restarted: announced 1 upload(s) without a result again" in supervisor.actions

    # when the whole stack is stopped and `up` runs again on the same work dir
    stack.stop()
    again = start_stack(store="minio", workers=1, work_dir=work_dir)

    # then it opens the same data with the same credentials, and goes on reading uploads
    assert again.spec.access_key == spec.access_key
    assert read_result(again.spec, spec.input_bucket, "before.png")["status"] == "succeeded"
    again.spec.client("s3").put_object(Bucket=spec.input_bucket, Key="second-life.png", Body=png_of("AGAIN 3333"))
    assert wait_for_result(again.spec, spec.input_bucket, "second-life.png")["status"] == "succeeded"


def handled(stack, bucket: str, key: str) -> int:
    """Deliveries about that object whose handler has returned."""
    return len(function_logs.about(stack.spec.work_dir, function_logs.HANDLED, bucket, key))


def test_the_same_bytes_uploaded_again_and_again_within_a_second_are_read_once(minio_stack, minio_bucket):
    # given two workers, and a scan uploaded ten times in a row with the same bytes
    s3 = minio_stack.spec.client("s3")
    body = pdf_of([[f"SAME BYTES PAGE {n}", "read once"] for n in range(3)])
    for _ in range(10):
        s3.put_object(Bucket=minio_bucket, Key="again.pdf", Body=body)

    # when every event has been delivered and handled
    wait_for(lambda: handled(minio_stack, minio_bucket, "again.pdf") >= 10, timeout=180, what="ten events handled")

    # then the engine read it once: the claim held the other worker off, the result the rest
    assert function_logs.ocr_starts(minio_stack.spec.work_dir, minio_bucket, "again.pdf") == 1
    assert read_result(minio_stack.spec, minio_bucket, "again.pdf")["status"] == "succeeded"


def test_a_quick_overwrite_leaves_the_result_of_the_latest_version(minio_stack, minio_bucket):
    # given a long document whose run takes a while
    s3 = minio_stack.spec.client("s3")
    s3.put_object(Bucket=minio_bucket, Key="overwrite.pdf", Body=pdf_of([[f"OLD VERSION PAGE {n}"] for n in range(6)]))

    # when it is overwritten at once, twice
    s3.put_object(Bucket=minio_bucket, Key="overwrite.pdf", Body=pdf_of([["MIDDLE VERSION 5555"]]))
    latest = s3.put_object(Bucket=minio_bucket, Key="overwrite.pdf", Body=pdf_of([["LATEST VERSION 7777"]]))[
        "ETag"
    ].strip('"')

    # then, once every event is handled, the result is the latest version's
    wait_for(lambda: handled(minio_stack, minio_bucket, "overwrite.pdf") >= 3, timeout=180, what="three events handled")
    result = read_result(minio_stack.spec, minio_bucket, "overwrite.pdf")
    assert result["source"]["etag"] == latest and "7777" in result["text"], result["text"][:200]


def test_the_uploaders_job_tag_and_outputs_are_honoured_and_a_bad_one_is_dead_lettered(minio_stack, minio_bucket):
    # given two uploads to MinIO with options in their user metadata, one of them invalid
    s3 = minio_stack.spec.client("s3")
    tagged = {"ocr-job-tag": "claims:2026-11", "ocr-outputs": "txt"}
    s3.put_object(Bucket=minio_bucket, Key="tagged.png", Body=png_of("INVOICE 7731"), Metadata=tagged)
    s3.put_object(Bucket=minio_bucket, Key="bad tag.png", Body=png_of("INVOICE 7731"), Metadata={"ocr-job-tag": "a b"})

    # then the first result carries the tag, and the text it asked for is written beside it
    result = wait_for_result(minio_stack.spec, minio_bucket, "tagged.png")
    assert (result["status"], result["job_tag"]) == ("succeeded", "claims:2026-11")
    text = s3.get_object(Bucket=minio_stack.spec.results_bucket, Key=result["outputs"]["txt"])["Body"].read()
    assert text.decode("utf-8") == result["text"]
    # and the second fails naming the metadata key, with its dead letter
    failed = wait_for_result(minio_stack.spec, minio_bucket, "bad tag.png")
    assert failed["error"]["type"] == "InvalidObjectOptionsError"
    assert "x-amz-meta-ocr-job-tag" in failed["error"]["message"]
    [letter] = wait_for(
        lambda: letters_for(minio_stack, minio_bucket, "bad tag.png"), timeout=30, what="the dead letter"
    )
    assert letter.error_type == "InvalidObjectOptionsError"


def test_each_document_announces_itself_on_the_completion_exchange(minio_stack, minio_bucket):
    # given a consumer's queue bound to the completion exchange the workers publish to
    from bucket_ocr_local.spec import COMPLETION_EXCHANGE

    queue = f"completions-{minio_bucket}"
    with closing(connect(parse_amqp_url(minio_stack.spec.broker_url, variable="broker"), name="test")) as connection:
        channel = connection.channel()
        channel.exchange_declare(COMPLETION_EXCHANGE, "topic", durable=True)
        channel.queue_declare(queue, durable=True)
        channel.queue_bind(queue, COMPLETION_EXCHANGE, routing_key="document.*")
    s3 = minio_stack.spec.client("s3")

    # when a good and a corrupt upload are read
    s3.put_object(Bucket=minio_bucket, Key="good.png", Body=png_of("INVOICE 7731"), Metadata={"ocr-job-tag": "batch-9"})
    s3.put_object(Bucket=minio_bucket, Key="bad.png", Body=CORRUPT_PNG)
    wait_for_result(minio_stack.spec, minio_bucket, "good.png")
    wait_for_result(minio_stack.spec, minio_bucket, "bad.png")

    # then each has exactly one event, routed by its status, carrying the uploader's tag
    def received() -> list[tuple[str, dict]]:
        messages = []
        with closing(
            connect(parse_amqp_url(minio_stack.spec.broker_url, variable="broker"), name="test")
        ) as connection:
            channel = connection.channel()
            while True:
                method, _, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    return messages
                messages.append((method.routing_key, json.loads(body)))

    events: list[tuple[str, dict]] = []
    wait_for(lambda: events.extend(received()) or len(events) >= 2, timeout=30, what="two completion events")
    by_key = {event["source"]["key"]: (routing_key, event) for routing_key, event in events}
    assert len(events) == 2 and set(by_key) == {"good.png", "bad.png"}
    assert by_key["good.png"][0] == "document.succeeded" and by_key["good.png"][1]["job_tag"] == "batch-9"
    assert by_key["bad.png"][0] == "document.failed" and by_key["bad.png"][1]["error"]["type"] == "CorruptDocumentError"
