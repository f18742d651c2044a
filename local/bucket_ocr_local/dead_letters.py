"""The dead-letter queue: what lands there, how to read it, how to send it back.

Two kinds of message share the one queue, on either backend:
- "function": the function's own record of a permanent failure (``record``, ``error_type``,
  ``error_message``, ``attempt``), sent as it gives up on a document;
- "redrive": an event the queue itself gave up on: SQS moved it there after
  maxReceiveCount receives, or RabbitMQ dead-lettered it past the work queue's delivery
  limit. Its body is the event as it came.

The embedded stack keeps them in SQS (moto), the MinIO stack on RabbitMQ. Neither can be
browsed: reading is receiving, so a ``DeadLetterBox`` holds what it read until it is
closed, and puts back whatever was not redriven.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from bucket_ocr.events.routing import objects_named
from bucket_ocr.storage import error_code
from bucket_ocr_local.spec import StackSpec

# Long enough to page through the whole SQS queue without meeting a message twice.
PEEK_VISIBILITY_SECONDS = 30
# What SQS answers a visibility change on a message no longer held: deleted (AWS says
# InvalidParameterValue, moto ReceiptHandleIsInvalid) or already visible again.
LETTER_GONE = frozenset(
    {
        "ReceiptHandleIsInvalid",
        "InvalidParameterValue",
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
    }
)


@dataclass
class DeadLetter:
    kind: str  # "function" | "redrive"
    message_id: str
    body: Any
    bucket: str | None = None
    key: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    attempts: int | None = None
    objects: list[dict[str, str]] = field(default_factory=list)
    # How the backend finds this message again: an SQS receipt handle, an AMQP delivery tag.
    handle: Any = field(default=None, repr=False)


class DeadLetterBox(ABC):
    @abstractmethod
    def peek(self, limit: int = 1000) -> list[DeadLetter]:
        """Every message in the queue, held (invisible to others) until the box closes."""

    @abstractmethod
    def _send_back(self, event: Any, letter: DeadLetter) -> None:
        """Put the event on the work queue, then remove the letter."""

    @abstractmethod
    def close(self) -> None:
        """Put back what was read and not redriven."""

    def redrive(self, letters: list[DeadLetter]) -> int:
        """Send each letter's event back to where the function reads events; remove the letter."""
        sent = 0
        for letter in letters:
            event = replay_event(letter)
            if event is not None:  # a letter that holds no event stays where it is
                self._send_back(event, letter)
                sent += 1
        return sent


@contextmanager
def open_box(spec: StackSpec) -> Iterator[DeadLetterBox]:
    box = _AmqpBox(spec) if spec.broker_url else _SqsBox(spec)
    try:
        yield box
    finally:
        box.close()


def describe(message_id: str, body_text: str | bytes, *, attempts: int | None, handle: Any) -> DeadLetter:
    try:
        body = json.loads(body_text)
    except ValueError:
        body = body_text.decode(errors="replace") if isinstance(body_text, bytes) else body_text
    base = {"message_id": message_id, "body": body, "handle": handle}
    if isinstance(body, dict) and "record" in body and "error_type" in body:
        return DeadLetter(
            "function",
            **base,
            bucket=body.get("bucket"),
            key=body.get("key"),
            error_type=body.get("error_type"),
            error_message=body.get("error_message"),
            attempts=body.get("attempt"),
            objects=[{"bucket": body["bucket"], "key": body["key"]}] if body.get("bucket") else [],
        )
    objects = objects_named(body) if isinstance(body, dict) else []
    return DeadLetter(
        "redrive",
        **base,
        bucket=objects[0]["bucket"] if objects else None,
        key=objects[0]["key"] if objects else None,
        attempts=attempts,
        objects=objects,
    )


def replay_event(letter: DeadLetter) -> Any:
    if letter.kind == "function":
        record = letter.body["record"]
        # A queue message as the function got it (SQS record, AMQP message): its body is
        # the event.
        if isinstance(record, dict) and record.get("eventSource") in ("aws:sqs", "amqp"):
            try:
                return json.loads(record["body"])
            except (KeyError, ValueError):
                return None  # a body that was never an event stays dead
        return {"Records": [record]}
    return letter.body if isinstance(letter.body, dict) else None


class _SqsBox(DeadLetterBox):
    def __init__(self, spec: StackSpec):
        self._spec = spec
        self._sqs = spec.client("sqs")
        self._held: dict[str, DeadLetter] = {}

    def peek(self, limit: int = 1000) -> list[DeadLetter]:
        while len(self._held) < limit:
            batch = self._sqs.receive_message(
                QueueUrl=self._spec.dead_letter_queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
                AttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in self._held]
            if not fresh:
                break
            for message in fresh:
                received = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)) or None
                self._held[message["MessageId"]] = describe(
                    message["MessageId"], message["Body"], attempts=received, handle=message["ReceiptHandle"]
                )
        return list(self._held.values())

    def _send_back(self, event: Any, letter: DeadLetter) -> None:
        self._sqs.send_message(QueueUrl=self._spec.events_queue_url, MessageBody=json.dumps(event))
        self._sqs.delete_message(QueueUrl=self._spec.dead_letter_queue_url, ReceiptHandle=letter.handle)
        self._held.pop(letter.message_id, None)

    def close(self) -> None:
        for letter in self._held.values():
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self._spec.dead_letter_queue_url, ReceiptHandle=letter.handle, VisibilityTimeout=0
                )
            except ClientError as error:
                if error_code(error) not in LETTER_GONE:
                    raise  # the queue or the caller's rights are wrong: not something to pass over
                # deleted meanwhile (a concurrent redrive), or back already: nothing to put back


class _AmqpBox(DeadLetterBox):
    """Letters read with basic.get and left unacknowledged: closing the channel puts them back."""

    def __init__(self, spec: StackSpec):
        from bucket_ocr.amqp import confirmed_channel, parse_amqp_url

        self._spec = spec
        self._letters = parse_amqp_url(
            spec.dead_letter_queue_url, variable="dead_letter_queue_url", queue_required=True
        )
        # One channel for the box's life: letters are acknowledged on the channel that
        # read them, and closing it puts back those that were not.
        self._open = ExitStack()
        self._channel = self._open.enter_context(confirmed_channel(self._letters, name="bucket-ocr-local dlq"))

    def peek(self, limit: int = 1000) -> list[DeadLetter]:
        letters = []
        while len(letters) < limit:
            method, properties, body = self._channel.basic_get(self._letters.queue, auto_ack=False)
            if method is None:
                break
            headers = properties.headers or {}
            delivered = headers.get("x-delivery-count")
            letters.append(
                describe(
                    properties.message_id or f"delivery-{method.delivery_tag}",
                    body,
                    attempts=int(delivered) + 1 if delivered is not None else None,
                    handle=method.delivery_tag,
                )
            )
        return letters

    def _send_back(self, event: Any, letter: DeadLetter) -> None:
        from bucket_ocr.amqp import publish_json

        # Straight to the work queue through the default exchange, confirmed (and routed:
        # mandatory) before the letter is let go.
        publish_json(self._channel, event, exchange="", routing_key=self._spec.work_queue, mandatory=True)
        self._channel.basic_ack(letter.handle)

    def close(self) -> None:
        self._open.close()


def peek(spec: StackSpec, limit: int = 1000) -> list[DeadLetter]:
    """Every letter, put back at once: a look that changes nothing."""
    with open_box(spec) as box:
        return box.peek(limit)
