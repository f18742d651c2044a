"""Which event shape an invocation is, and the object records inside it.

SQS and SNS are envelopes: their bodies hold one of the notification shapes, possibly
another envelope (S3 → SNS → SQS without raw delivery), so unwrapping is recursive.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, TypedDict

from bucket_ocr.errors import EventError, MalformedEventError, UnrecognizedEventError
from bucket_ocr.events import batch_operations, notifications
from bucket_ocr.events.records import ObjectRecord


class EventKind(enum.Enum):
    SQS_BATCH = "sqs"
    SNS = "sns"
    S3_NOTIFICATION = "s3"
    S3_TEST_EVENT = "s3-test"
    EVENTBRIDGE = "eventbridge"
    DIRECT = "direct"
    # Answered task by task (a result code each), not by records: see app.py.
    S3_BATCH_OPERATION = "s3-batch-operation"


def classify(payload: Any) -> EventKind:
    if not isinstance(payload, Mapping):
        raise UnrecognizedEventError(f"an event must be a JSON object, got {type(payload).__name__}")
    records = payload.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        first = records[0]
        source = first.get("eventSource") or first.get("EventSource")
        if source == "aws:sqs":
            return EventKind.SQS_BATCH
        if source == "aws:sns":
            return EventKind.SNS
        if source in notifications.OBJECT_SOURCES:
            return EventKind.S3_NOTIFICATION
        raise UnrecognizedEventError(f"records from event source {source!r} are not object notifications")
    if payload.get("Event") == "s3:TestEvent":
        return EventKind.S3_TEST_EVENT
    if payload.get("source") == "aws.s3" and "detail" in payload:
        return EventKind.EVENTBRIDGE
    if payload.get("Type") == "Notification" and "Message" in payload:
        return EventKind.SNS
    if batch_operations.is_batch_operation(payload):
        return EventKind.S3_BATCH_OPERATION
    if "bucket" in payload and "key" in payload:
        return EventKind.DIRECT
    raise UnrecognizedEventError(
        "not an S3, SQS, SNS, EventBridge, MinIO, S3 Batch Operations or direct {bucket, key} event; keys: "
        + ", ".join(sorted(map(str, payload))[:10])
    )


def records_from_payload(payload: Any) -> list[ObjectRecord]:
    """Every object record in a non-SQS payload; SQS batches go message by message."""
    kind = classify(payload)
    if kind is EventKind.S3_NOTIFICATION:
        return notifications.from_s3_notification(payload)
    if kind is EventKind.EVENTBRIDGE:
        # Deletions, restores and tagging come as other detail types of the same shape;
        # whether one asks for OCR is ObjectRecord.is_creation's to say.
        return notifications.from_eventbridge(payload)
    if kind is EventKind.DIRECT:
        return notifications.from_direct(payload)
    if kind is EventKind.S3_BATCH_OPERATION:
        return batch_operations.records_from_batch_operation(payload)
    if kind is EventKind.S3_TEST_EVENT:
        # S3 sends this once when a notification is configured; there is no object.
        return []
    if kind is EventKind.SNS:
        return [record for message in _sns_messages(payload) for record in records_from_payload(message)]
    raise UnrecognizedEventError("an SQS batch cannot be nested inside another event")


def records_from_sqs_body(body: str) -> list[ObjectRecord]:
    return records_from_payload(parse_json(body, what="SQS message body"))


def records_in(payload: Any) -> list[ObjectRecord]:
    """Every object record an event names, those in an SQS batch's messages too: for
    callers that only look (logs, journals). Whatever is wrong with it raises ``EventError``."""
    if classify(payload) is not EventKind.SQS_BATCH:
        return records_from_payload(payload)
    records = []
    for message in payload["Records"]:
        body = message.get("body") if isinstance(message, Mapping) else None
        if not isinstance(body, str):
            raise MalformedEventError("an SQS message lacks its body")
        records.extend(records_from_sqs_body(body))
    return records


class ObjectName(TypedDict):
    bucket: str
    key: str


def objects_named(payload: Any) -> list[ObjectName]:
    """Bucket and key of each object an event names, for the lines that say what a worker
    holds (its log, the local stack's journal). An event that names no object, or is
    malformed, names none: the handler is what reports why. Anything else raises (a bug)."""
    try:
        records = records_in(payload)
    except EventError:
        return []
    return [{"bucket": record.bucket, "key": record.key} for record in records]


def parse_json(text: str, *, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as cause:
        raise MalformedEventError(f"{what} is not JSON: {str(text)[:80]!r}") from cause


def _sns_messages(payload: Mapping[str, Any]) -> list[Any]:
    wrappers = payload.get("Records", [{"Sns": payload}])
    envelopes = [wrapper.get("Sns") if isinstance(wrapper, Mapping) else None for wrapper in wrappers]
    messages = []
    for envelope in envelopes:
        message = envelope.get("Message") if isinstance(envelope, Mapping) else None
        if not isinstance(message, str):
            raise MalformedEventError("an SNS notification lacks its Message")
        messages.append(parse_json(message, what="SNS message"))
    return messages
