"""One broker message through the function, and what to tell the broker afterwards.

The decision mirrors Lambda's with an SQS or async source:
- the handler returned (results written, permanent failures dead-lettered by the function
  itself): acknowledge;
- it raised a ``TransientError`` (storage or broker unavailable...): hand the message back;
  RabbitMQ redelivers it and, past the queue's delivery limit, dead-letters it;
- the message is not an event at all: dead-letter it now with the body as it came, since
  it would fail the same way on every delivery;
- the handler raised anything else: that is a bug, and the message goes back too, so it is
  retried and then dead-lettered, never dropped; it is logged with its traceback.

Only the handler's call is guarded that broadly: a fault in the worker's own code here
(reading the message, building a dead letter) raises out of the invoker, so the consumer
stops with a traceback and tests see it, instead of a loop that requeues it for ever.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from bucket_ocr.errors import EventError, MalformedEventError, TransientError
from bucket_ocr.events.routing import objects_named, parse_json
from bucket_ocr.failures.dead_letters import DeadLetterQueue, dead_letter_body
from bucket_ocr.observability import count_failure, logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# The function's entry point, as Lambda calls it: ``bucket_ocr.handler.lambda_handler``.
Handler = Callable[[dict[str, Any], "LambdaContext"], object]


class Verdict(enum.Enum):
    ACK = "ack"
    REQUEUE = "requeue"


class AmqpRecord(TypedDict):
    """A broker message as a dead letter carries it, in the SQS record's spirit: replayable."""

    eventSource: Literal["amqp"]
    exchange: str
    routingKey: str
    messageId: str | None
    body: str


@dataclass(frozen=True)
class Message:
    body: bytes
    exchange: str
    routing_key: str
    message_id: str | None = None
    # RabbitMQ counts earlier deliveries of a quorum queue message (x-delivery-count).
    delivery_count: int = 0

    def as_record(self) -> AmqpRecord:
        return {
            "eventSource": "amqp",
            "exchange": self.exchange,
            "routingKey": self.routing_key,
            "messageId": self.message_id,
            "body": self.body.decode("utf-8", errors="replace"),
        }


class Invoker:
    def __init__(self, handler: Handler, dead_letters: DeadLetterQueue, *, timeout_seconds: int, function_name: str):
        self._handler = handler
        self._dead_letters = dead_letters
        self._timeout_ms = timeout_seconds * 1000
        self._function_name = function_name

    def __call__(self, message: Message) -> Verdict:
        if not message.body.strip():
            logger.info("empty message (a test event?): acknowledged", extra={"message_id": message.message_id})
            return Verdict.ACK
        try:
            event = parse_json(message.body.decode("utf-8", errors="replace"), what="broker message body")
            if not isinstance(event, Mapping):
                raise MalformedEventError(f"a broker message must hold a JSON object, got {type(event).__name__}")
        except EventError as error:
            return self._dead_letter(message, error)
        objects = objects_named(event)
        logger.info(
            "event received",
            extra={"message_id": message.message_id, "attempt": message.delivery_count + 1, "objects": objects},
        )
        context = self._context()
        try:
            response = self._handler(dict(event), context)
        except TransientError:
            # The function has logged and counted it; the broker's redelivery is the retry.
            return Verdict.REQUEUE
        except EventError as error:
            return self._dead_letter(message, error)
        except Exception:  # noqa: BLE001 - the consume loop must go on: whatever else the function raises sends the message back, and the delivery limit dead-letters it, as Lambda retries an unhandled error
            logger.exception(
                "unexpected failure: the message goes back for redelivery", extra={"message_id": message.message_id}
            )
            count_failure("UnhandledError")
            return Verdict.REQUEUE
        # The delivery's terminal line: what each object came to (read, skipped and why, failed).
        outcomes = response.get("outcomes") if isinstance(response, Mapping) else None
        logger.info("event handled", extra={"message_id": message.message_id, "objects": objects, "outcomes": outcomes})
        return Verdict.ACK

    def _dead_letter(self, message: Message, error: EventError) -> Verdict:
        logger.warning("not an event: dead-lettered", extra={"message_id": message.message_id, "error": str(error)})
        count_failure(type(error).__name__)
        letter = dead_letter_body(
            message.as_record(), error, attempt=message.delivery_count + 1, bucket=None, key=None, result_key=None
        )
        try:
            self._dead_letters.send(letter)
        except TransientError:
            # The letter could not be stored: the message stays on the queue instead.
            return Verdict.REQUEUE
        return Verdict.ACK

    def _context(self) -> LambdaContext:
        from awslambdaric.lambda_context import LambdaContext as RuntimeContext

        request_id = str(uuid.uuid4())
        deadline_ms = int(time.time() * 1000) + self._timeout_ms
        arn = f"arn:aws:lambda:local:000000000000:function:{self._function_name}"
        # awslambdaric's class is the one Lambda's runtime passes; powertools' names its shape.
        context: LambdaContext = RuntimeContext(request_id, None, None, deadline_ms, invoked_function_arn=arn)
        return context
