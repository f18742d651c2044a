"""One broker message through the function, and what to tell the broker afterwards.

The decision mirrors Lambda's with an SQS or async source:
- the handler returned (results written, permanent failures dead-lettered by the function
  itself): acknowledge;
- it raised a ``TransientError`` (storage or broker unavailable...): hand the message back;
  RabbitMQ redelivers it and, past the queue's delivery limit, dead-letters it;
- the message is not an event at all: dead-letter it now with the body as it came, since
  it would fail the same way on every delivery;
- anything else is a bug: hand it back too, so it is retried and then dead-lettered, never
  dropped, and log it with its traceback.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bucket_ocr.errors import EventError, MalformedEventError, TransientError
from bucket_ocr.events import records_from_payload
from bucket_ocr.events.routing import parse_json
from bucket_ocr.failures.dead_letters import DeadLetterQueue, dead_letter_body
from bucket_ocr.observability import count_failure, logger

Handler = Callable[[Any, Any], Any]


class Verdict(enum.Enum):
    ACK = "ack"
    REQUEUE = "requeue"


@dataclass(frozen=True)
class Message:
    body: bytes
    exchange: str
    routing_key: str
    message_id: str | None = None
    # RabbitMQ counts earlier deliveries of a quorum queue message (x-delivery-count).
    delivery_count: int = 0

    def as_record(self) -> dict[str, Any]:
        """The message as a dead letter carries it, in the SQS record's spirit: replayable."""
        return {
            "eventSource": "amqp",
            "exchange": self.exchange,
            "routingKey": self.routing_key,
            "messageId": self.message_id,
            "body": self.body.decode("utf-8", errors="replace"),
        }


def objects_in(event: Any) -> list[dict[str, str]]:
    """Bucket and key of each record, for the log line that says what a worker holds."""
    try:
        return [{"bucket": r.bucket, "key": r.key} for r in records_from_payload(event)]
    except EventError:
        return []


class Invoker:
    def __init__(self, handler: Handler, dead_letters: DeadLetterQueue, *, timeout_seconds: int, function_name: str):
        self._handler = handler
        self._dead_letters = dead_letters
        self._timeout_ms = timeout_seconds * 1000
        self._function_name = function_name

    def __call__(self, message: Message) -> Verdict:
        try:
            return self._invoke(message)
        except TransientError:
            # The function has logged and counted it; the broker's redelivery is the retry.
            return Verdict.REQUEUE
        except Exception:
            logger.exception(
                "unexpected failure: the message goes back for redelivery", extra={"message_id": message.message_id}
            )
            count_failure("UnhandledError")
            return Verdict.REQUEUE

    def _invoke(self, message: Message) -> Verdict:
        attempt = message.delivery_count + 1
        if not message.body.strip():
            logger.info("empty message (a test event?): acknowledged", extra={"message_id": message.message_id})
            return Verdict.ACK
        try:
            event = parse_json(message.body.decode("utf-8", errors="replace"), what="broker message body")
            if not isinstance(event, Mapping):
                raise MalformedEventError(f"a broker message must hold a JSON object, got {type(event).__name__}")
            objects = objects_in(event)
            logger.info(
                "event received", extra={"message_id": message.message_id, "attempt": attempt, "objects": objects}
            )
            response = self._handler(dict(event), self._context())
            # The delivery's terminal line: what each object came to (read, skipped and why, failed).
            outcomes = response.get("outcomes") if isinstance(response, Mapping) else None
            logger.info(
                "event handled", extra={"message_id": message.message_id, "objects": objects, "outcomes": outcomes}
            )
        except EventError as error:
            logger.warning("not an event: dead-lettered", extra={"message_id": message.message_id, "error": str(error)})
            count_failure(type(error).__name__)
            self._dead_letters.send(
                dead_letter_body(message.as_record(), error, attempt=attempt, bucket=None, key=None, result_key=None)
            )
        return Verdict.ACK

    def _context(self) -> Any:
        from awslambdaric.lambda_context import LambdaContext

        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000) + self._timeout_ms
        arn = f"arn:aws:lambda:local:000000000000:function:{self._function_name}"
        return LambdaContext(request_id, None, None, deadline_ms, invoked_function_arn=arn)
