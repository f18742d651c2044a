"""The embedded default: moto server's S3 notifies its SQS queue, workers poll it like
Lambda's event source mapping, and the queue's redrive policy catches what keeps failing."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from bucket_ocr_local import dead_letters, journal
from bucket_ocr_local.errors import StackLostError
from bucket_ocr_local.processes import wait_for
from bucket_ocr_local.stack import LocalStack
from bucket_ocr_local.supervisor import Supervisor, heal
from bucket_ocr_local.worker import WorkerPool
from tests.integration.conftest import invocations_of, pdf_of, png_of, read_result, wait_for_result
from tests.support.failing_objects import FLAG_DIR_VARIABLE, HANDLER, held
from tests.support.waits import eventually

pytestmark = pytest.mark.integration


def queue_depth(spec) -> tuple[int, int]:
    attributes = spec.client("sqs").get_queue_attributes(
        QueueUrl=spec.events_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_an_upload_goes_s3_to_sqs_to_worker_to_results(start_stack):
    # given the embedded stack with one worker
    stack = start_stack(store="moto", workers=1)
    spec = stack.spec

    # when a document is uploaded to the input bucket
    spec.client("s3").put_object(Bucket=spec.input_bucket, Key="in/receipt one.png", Body=png_of("RECEIPT 5512"))

    # then the result is in the results bucket
    result = wait_for_result(spec, spec.input_bucket, "in/receipt one.png")
    assert result["status"] == "succeeded" and "5512" in result["text"]
    # and it arrived as an SQS batch built from moto's own S3 notification
    [run] = invocations_of(spec, spec.input_bucket, "in/receipt one.png")
    assert run["outcome"] == "ok" and run["response"] == {"batchItemFailures": []}
    # and the message was deleted once handled
    wait_for(lambda: queue_depth(spec) == (0, 0), timeout=10, what="an empty events queue")


def test_a_message_that_keeps_failing_lands_in_the_dlq_after_the_configured_receives(start_stack):
    # given a stack whose results bucket has gone, so every attempt fails
    stack = start_stack(store="moto", workers=1, visibility_timeout=2, max_receive_count=2)
    spec = stack.spec
    s3 = spec.client("s3")
    s3.delete_bucket(Bucket=spec.results_bucket)

    # when a document is uploaded
    s3.put_object(Bucket=spec.input_bucket, Key="doomed.png", Body=png_of("NEVER SAVED"))

    # then SQS moves its notification to the dead-letter queue after two receives
    def redriven():
        return next(
            (
                letter
                for letter in dead_letters.peek(spec)
                if letter.kind == "redrive" and {"bucket": spec.input_bucket, "key": "doomed.png"} in letter.objects
            ),
            None,
        )

    letter = wait_for(redriven, timeout=60, what="the redriven notification")
    assert letter.body["Records"][0]["s3"]["object"]["key"] == "doomed.png"
    runs = invocations_of(spec, spec.input_bucket, "doomed.png")
    assert len(runs) == 2
    # Powertools raises when a whole batch failed, so a one-message batch ends as an
    # invocation error; either way SQS keeps the message for the next receive.
    assert all(run["outcome"] == "error" or run["response"]["batchItemFailures"] for run in runs)
    assert queue_depth(spec) == (0, 0)


def test_two_workers_share_a_burst_and_do_each_object_exactly_once(start_stack):
    # given two workers
    stack = start_stack(store="moto", workers=2)
    spec = stack.spec
    s3 = spec.client("s3")
    keys = [f"burst/doc-{n:02d}.png" for n in range(8)]

    # when a burst of uploads arrives
    for n, key in enumerate(keys):
        s3.put_object(Bucket=spec.input_bucket, Key=key, Body=png_of(f"BURST {n}"))

    # then every document has its result
    for key in keys:
        assert wait_for_result(spec, spec.input_bucket, key)["status"] == "succeeded"
    # and each was handled by exactly one invocation, the burst spread over both workers
    wait_for(lambda: queue_depth(spec) == (0, 0), timeout=10, what="an empty events queue")
    handled = Counter(obj["key"] for entry in journal.entries(spec.work_dir) for obj in entry["objects"])
    assert handled == Counter({key: 1 for key in keys})
    workers = {entry["worker"] for entry in journal.entries(spec.work_dir) if entry["objects"]}
    assert workers == {"worker-0", "worker-1"}


def stack_whose_worker_holds(start_stack, flag_dir: Path, **options) -> LocalStack:
    """The embedded stack with one worker whose handler keeps an object the test holds
    (tests/support/failing_objects.held) in hand until the test lets go, with S3's test
    event, sent when the notification was configured, out of the way."""
    stack = start_stack(store="moto", workers=0, function_env={FLAG_DIR_VARIABLE: str(flag_dir)}, **options)
    stack.pool = WorkerPool(stack.work_dir, count=1, handler=HANDLER).start()
    stack.pool.wait_ready()
    wait_for(lambda: queue_depth(stack.spec) == (0, 0), timeout=30, what="the s3:TestEvent to be consumed")
    return stack


def test_an_event_in_flight_when_its_worker_is_killed_is_redelivered(start_stack, tmp_path):
    # given one worker with a document in hand
    stack = stack_whose_worker_holds(start_stack, tmp_path, visibility_timeout=3)
    spec = stack.spec
    long_pdf = pdf_of([[f"PAGE {n} OF A LONG LETTER", "with a few lines", "of text to read"] for n in range(3)])
    with held(tmp_path, spec.input_bucket, "long.pdf") as hold:
        spec.client("s3").put_object(Bucket=spec.input_bucket, Key="long.pdf", Body=long_pdf)
        wait_for(lambda: queue_depth(spec)[1] == 1, timeout=30, what="the worker to take the message", interval=0.05)

        # when that worker is killed outright, under the supervisor `up` runs
        with Supervisor(stack, interval=0.2, report=lambda action: None) as supervisor:
            stack.pool.workers[0].kill()
            hold.unlink()

            # then the supervisor puts a new worker in its place, the message comes back after
            # its visibility timeout, and the new worker finishes it
            result = wait_for_result(spec, spec.input_bucket, "long.pdf", timeout=180)
    assert result["status"] == "succeeded" and len(result["pages"]) == 3
    [run] = invocations_of(spec, spec.input_bucket, "long.pdf")
    assert run["worker"] == "worker-1"
    assert [w.name for w in stack.pool.workers] == ["worker-1"]
    assert "worker-0 exited (signal SIGKILL); replacing it in 0 s" in supervisor.actions
    assert supervisor.failure is None


def test_a_stopped_worker_finishes_the_event_it_holds_first(start_stack, tmp_path):
    # given one worker with a document in hand
    stack = stack_whose_worker_holds(start_stack, tmp_path, visibility_timeout=3)
    spec = stack.spec
    long_pdf = pdf_of([[f"PAGE {n} TO FINISH", "before stopping"] for n in range(3)])
    with held(tmp_path, spec.input_bucket, "finish-me.pdf") as hold:
        spec.client("s3").put_object(Bucket=spec.input_bucket, Key="finish-me.pdf", Body=long_pdf)
        wait_for(lambda: queue_depth(spec)[1] == 1, timeout=30, what="the worker to take the message", interval=0.05)
        worker = stack.pool.workers[0]

        # when it is asked to stop (SIGTERM, as Ctrl-C on `up` does), and has taken the request,
        # before it reads the document
        worker.signal(signal.SIGTERM)
        eventually(
            lambda: "SIGTERM, finishing the current event" in worker.log_path.read_text(),
            timeout=30,
            what="the worker to take the stop",
        )
        hold.unlink()
        stack.pool.stop()

    # then it exited cleanly, having written the result and deleted the message first
    assert worker.wait(0) == 0
    assert read_result(spec, spec.input_bucket, "finish-me.pdf")["status"] == "succeeded"
    assert queue_depth(spec) == (0, 0)


def test_a_worker_that_keeps_dying_at_start_is_replaced_after_growing_pauses(start_stack):
    # given a stack whose worker cannot start (its handler does not exist)
    stack = start_stack(store="moto", workers=0)
    stack.pool = WorkerPool(stack.work_dir, count=1, handler="no_such_module.handler").start()

    # when the supervisor heals it again and again
    actions = []

    def third_pause_announced() -> bool:
        actions.extend(heal(stack))
        return sum("replacing it in" in action for action in actions) == 3

    wait_for(third_pause_announced, timeout=90, what="three replacements", interval=0.2)

    # then each replacement waits longer than the one before: 1 s, 2 s, 4 s
    pauses = [action.split("replacing it in ")[1] for action in actions if "replacing it in" in action]
    assert pauses == ["1 s", "2 s", "4 s"], actions


def test_a_dead_moto_server_ends_the_stack_with_a_named_error(start_stack):
    # given an embedded stack, whose buckets and queues live in moto's memory
    stack = start_stack(store="moto", workers=0)

    # when the moto server dies
    stack.moto.process.kill()

    # then healing says plainly that the stack's data is gone, instead of starting an empty one
    with pytest.raises(StackLostError, match="in-memory buckets and queues are gone"):
        heal(stack)
