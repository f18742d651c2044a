"""Dead-letter messages for permanent failures, and the queue they go to.

The message carries the original record untouched, so redriving it is re-sending the
``record`` as an event; error type and attempt are attributes too, so a queue console or
a filter can sort failures without parsing bodies. The body is the same on every
backend; the queue's URL picks the backend once, at cold start: an SQS queue URL, or an
``amqp://`` URL naming a queue on the self-hosted broker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from bucket_ocr.amqp import is_amqp_url, parse_amqp_url

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

MESSAGE_VERSION = "1.0"


class DeadLetter(TypedDict):
    """The body of a dead letter, the same on every backend."""

    message_version: str
    error_type: str  # the exception's class name, e.g. CorruptDocumentError
    error_message: str
    attempt: int  # 1 for the first delivery
    bucket: str | None  # None when the message named no object (not an event at all)
    key: str | None
    result_key: str | None  # where the error result was written, if one was
    failed_at: str  # ISO 8601, UTC, milliseconds
    record: dict[str, Any]  # the original record or message, as it came: JSON


def dead_letter_body(
    record: Mapping[str, Any],
    error: BaseException,
    *,
    attempt: int,
    bucket: str | None,
    key: str | None,
    result_key: str | None,
) -> DeadLetter:
    return {
        "message_version": MESSAGE_VERSION,
        "error_type": type(error).__name__,
        "error_message": str(error),
        "attempt": attempt,
        "bucket": bucket,
        "key": key,
        "result_key": result_key,
        "failed_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "record": dict(record),
    }


class DeadLetterQueue(Protocol):
    def send(self, body: DeadLetter) -> str:
        """Store one letter; raise ``StorageUnavailableError`` when it cannot be stored."""


def dead_letter_queue(queue_url: str, sqs: SQSClient) -> DeadLetterQueue:
    if is_amqp_url(queue_url):
        from bucket_ocr.failures.amqp_queue import AmqpDeadLetterQueue

        return AmqpDeadLetterQueue(parse_amqp_url(queue_url, variable="OCR_DEAD_LETTER_QUEUE_URL", queue_required=True))
    from bucket_ocr.failures.sqs_queue import SqsDeadLetterQueue

    return SqsDeadLetterQueue(sqs, queue_url)


def letter_attributes(body: DeadLetter) -> dict[str, str]:
    """What a queue shows beside the body, to sort letters without reading them."""
    return {"error_type": body["error_type"], "attempt": str(body["attempt"])}
