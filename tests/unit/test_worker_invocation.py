"""What a worker tells the broker after one message: ack, or back to the queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bucket_ocr.errors import CorruptDocumentError, StorageUnavailableError, UnrecognizedEventError
from bucket_ocr.worker.invocation import Invoker, Message, Verdict
from tests.support.events import load_event, sqs_wrap

EVENTS = Path(__file__).resolve().parents[1] / "events"


class RecordingLetters:
    def __init__(self, fail: bool = False):
        self.sent: list[dict] = []
        self.fail = fail

    def send(self, body: dict) -> str:
        if self.fail:
            raise StorageUnavailableError("broker down", bucket="-", key="-")
        self.sent.append(body)
        return str(len(self.sent))


def invoker(handler, letters=None) -> Invoker:
    return Invoker(handler, letters or RecordingLetters(), timeout_seconds=60, function_name="test")


def message(body: bytes, delivery_count: int = 0) -> Message:
    return Message(
        body=body, exchange="bucket-ocr", routing_key="uploads", message_id="m-1", delivery_count=delivery_count
    )


def minio_event() -> bytes:
    return (EVENTS / "minio-webhook.json").read_bytes()


def test_a_handled_event_is_acknowledged_and_the_handler_gets_the_event_and_a_lambda_context():
    # given a handler that records its calls
    calls = []

    def handler(event, context):
        calls.append((event, context))
        return {"outcomes": []}

    # when MinIO's event arrives
    verdict = invoker(handler)(message(minio_event()))

    # then the handler got the event as MinIO sent it and a context with a deadline
    assert verdict is Verdict.ACK
    [(event, context)] = calls
    assert event == json.loads(minio_event())
    assert 0 < context.get_remaining_time_in_millis() <= 60_000
    assert context.aws_request_id


def test_a_transient_failure_goes_back_to_the_queue_as_expected_not_as_a_bug(caplog):
    def handler(event, context):
        raise StorageUnavailableError("S3 503", bucket="b", key="k")

    with caplog.at_level("INFO"):
        assert invoker(handler)(message(minio_event())) is Verdict.REQUEUE
    # the function has logged it already: the worker adds no "unexpected failure" of its own
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_a_bug_goes_back_to_the_queue_so_the_delivery_limit_dead_letters_it():
    def handler(event, context):
        raise KeyError("a bug of ours")

    assert invoker(handler)(message(minio_event())) is Verdict.REQUEUE


def test_a_permanent_failure_that_escapes_the_function_is_a_bug_and_goes_back_to_the_queue():
    # the function dead-letters permanent failures itself and returns; one that escapes is a bug
    def handler(event, context):
        raise CorruptDocumentError("bad", bucket="b", key="k")

    assert invoker(handler)(message(minio_event())) is Verdict.REQUEUE


def received_objects(caplog, body: bytes) -> list[dict]:
    """The objects the worker's "event received" line names for this message; whatever they
    are, the event goes on to the handler, which decides."""
    handled = []
    with caplog.at_level("INFO"):
        invoker(lambda event, context: handled.append(event))(message(body))
    assert handled == [json.loads(body)]
    [line] = [r for r in caplog.records if r.getMessage() == "event received"]
    return line.objects


def test_the_received_line_names_each_object_also_inside_a_queued_batch(caplog):
    # given the upload notifications of two queued messages, relayed through the broker
    batch = sqs_wrap([load_event("s3-put.json"), load_event("minio-webhook.json")])
    # when the worker takes it, then its first line names every object, decoded
    assert received_objects(caplog, json.dumps(batch).encode()) == [
        {"bucket": "ocr-input", "key": "incoming/invoice 2026 (copy).png"},
        {"bucket": "ocr-input", "key": "minio/scans/Señor Núñez a+b.png"},
    ]


def test_the_received_line_of_an_event_that_names_no_object_is_empty_and_the_handler_still_decides(caplog):
    # given an SNS notification without its message (the handler's to refuse)
    body = json.dumps({"Records": [{"EventSource": "aws:sns", "Sns": 7}]}).encode()
    # then the line names no object
    assert received_objects(caplog, body) == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_a_message_that_is_not_an_event_is_dead_lettered_once_with_its_body(body):
    # given a handler that must not be reached
    letters = RecordingLetters()

    def handler(event, context):  # pragma: no cover - asserted below
        raise AssertionError("called")

    # when the message arrives on its third delivery
    verdict = invoker(handler, letters)(message(body, delivery_count=2))

    # then it is dead-lettered as it came and acknowledged
    assert verdict is Verdict.ACK
    [letter] = letters.sent
    assert letter["record"]["eventSource"] == "amqp" and letter["record"]["body"] == body.decode()
    assert letter["error_type"] in {"MalformedEventError", "UnrecognizedEventError"}
    assert letter["attempt"] == 3


def test_an_event_the_handler_does_not_recognise_is_dead_lettered_not_retried():
    # given the function's own verdict on a shape it does not accept
    letters = RecordingLetters()

    def handler(event, context):
        raise UnrecognizedEventError("records from event source 'aws:kinesis' are not object notifications")

    # when such a message arrives
    verdict = invoker(handler, letters)(message(b'{"Records": [{"eventSource": "aws:kinesis"}]}'))

    # then it is dead-lettered once, named, and acknowledged
    assert verdict is Verdict.ACK
    assert [letter["error_type"] for letter in letters.sent] == ["UnrecognizedEventError"]


def test_a_dead_letter_that_cannot_be_sent_keeps_the_message_on_the_queue():
    assert invoker(lambda e, c: None, RecordingLetters(fail=True))(message(b"not json")) is Verdict.REQUEUE


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_an_empty_message_is_acknowledged_and_ignored(body):
    def handler(event, context):  # pragma: no cover - asserted below
        raise AssertionError("called")

    letters = RecordingLetters()
    assert invoker(handler, letters)(message(body)) is Verdict.ACK
    assert letters.sent == []


def test_a_fault_in_the_worker_s_own_code_is_raised_not_requeued():
    # given a dead-letter queue with a bug of ours (not a TransientError from the broker)
    class BrokenLetters:
        def send(self, body: dict) -> str:
            raise TypeError("a bug in the dead-letter sink")

    def handler(event, context):  # pragma: no cover - asserted below
        raise AssertionError("called")

    # when a message that must be dead-lettered arrives, then the bug surfaces
    with pytest.raises(TypeError, match="a bug in the dead-letter sink"):
        invoker(handler, BrokenLetters())(message(b"not json"))


def test_a_bug_in_the_handler_is_logged_with_its_traceback_and_counted(caplog):
    # given a handler with a bug
    def handler(event, context):
        raise KeyError("a bug of ours")

    # when a message arrives
    with caplog.at_level("ERROR"):
        verdict = invoker(handler)(message(minio_event()))

    # then it goes back to the queue, and the log names the bug with its traceback
    assert verdict is Verdict.REQUEUE
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.exc_info is not None and record.exc_info[0] is KeyError


@pytest.mark.parametrize(
    "path, why",
    [
        ("bucket_ocr.no_such_module.handler", "cannot be loaded"),
        ("bucket_ocr.worker.settings.no_such_function", "cannot be loaded"),
        ("bucket_ocr.worker.settings.DEFAULT_HANDLER", "names a str, not a function"),
    ],
)
def test_a_handler_setting_that_names_no_function_is_a_configuration_error(path, why):
    from bucket_ocr.errors import ConfigurationError
    from bucket_ocr.worker.__main__ import _load_handler

    with pytest.raises(ConfigurationError, match=why):
        _load_handler(path)
