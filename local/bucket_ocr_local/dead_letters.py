"""The dead-letter queue: what lands there, how to read it, how to send it back.

Three kinds of message share the one queue:
- "function": the function's own record of a permanent failure (``record``, ``error_type``,
  ``error_message``, ``attempt``), sent as it gives up on a document;
- "redrive": an S3 notification SQS moved there after maxReceiveCount failed receives;
- "async": Lambda's on-failure destination record (``requestPayload``, ``responsePayload``)
  the dispatcher writes when an asynchronous event used up its attempts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.spec import StackSpec

# Long enough to page through the whole queue without meeting a message twice.
PEEK_VISIBILITY_SECONDS = 30


@dataclass
class DeadLetter:
    kind: str  # "function" | "redrive" | "async"
    message_id: str
    receipt_handle: str
    body: Any
    bucket: str | None = None
    key: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    attempts: int | None = None
    objects: list[dict[str, str]] = field(default_factory=list)


def dead_letter_async_event(spec: StackSpec, leased, error: FunctionInvocationError) -> dict[str, Any]:
    """Write Lambda's on-failure destination record to the work dir and the dead-letter queue."""
    record = {
        "version": "1.0",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "requestContext": {
            "requestId": error.payload.get("requestId"),
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:bucket-ocr:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": leased.attempt,
        },
        "requestPayload": leased.body,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": error.payload,
    }
    folder = Path(spec.dispatcher.dead_letter_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"event-{leased.id}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False))
    if spec.dead_letter_queue_url:
        spec.client("sqs").send_message(QueueUrl=spec.dead_letter_queue_url, MessageBody=json.dumps(record))
    return record


def peek(spec: StackSpec, *, limit: int = 1000, hold: bool = False) -> list[DeadLetter]:
    """Every message in the dead-letter queue.

    SQS has no browse: reading is receiving, which hides a message for its visibility
    timeout. Each one stays hidden while we page through (so none is counted twice), then
    is put back into view at once, unless ``hold`` keeps it hidden for a redrive to delete.
    """
    sqs = spec.client("sqs")
    letters: dict[str, DeadLetter] = {}
    while len(letters) < limit:
        batch = sqs.receive_message(
            QueueUrl=spec.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=PEEK_VISIBILITY_SECONDS,
            AttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in letters]
        if not fresh:
            break
        for message in fresh:
            letters[message["MessageId"]] = describe(message)
    if not hold:
        release(spec, list(letters.values()))
    return list(letters.values())


def release(spec: StackSpec, letters: list[DeadLetter]) -> None:
    sqs = spec.client("sqs")
    for letter in letters:
        try:
            sqs.change_message_visibility(
                QueueUrl=spec.dead_letter_queue_url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
            )
        except sqs.exceptions.ClientError:
            pass  # deleted meanwhile (a concurrent redrive): nothing to put back


def describe(message: dict[str, Any]) -> DeadLetter:
    from bucket_ocr_local.journal import objects_in

    try:
        body = json.loads(message["Body"])
    except ValueError:
        body = message["Body"]
    base = {"message_id": message["MessageId"], "receipt_handle": message["ReceiptHandle"], "body": body}
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
    if isinstance(body, dict) and "requestPayload" in body:
        response = body.get("responsePayload") or {}
        objects = objects_in(body["requestPayload"])
        return DeadLetter(
            "async",
            **base,
            bucket=objects[0]["bucket"] if objects else None,
            key=objects[0]["key"] if objects else None,
            error_type=response.get("errorType"),
            error_message=response.get("errorMessage"),
            attempts=(body.get("requestContext") or {}).get("approximateInvokeCount"),
            objects=objects,
        )
    objects = objects_in(body) if isinstance(body, dict) else []
    return DeadLetter(
        "redrive",
        **base,
        bucket=objects[0]["bucket"] if objects else None,
        key=objects[0]["key"] if objects else None,
        attempts=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)) or None,
        objects=objects,
    )


def redrive(spec: StackSpec, letters: list[DeadLetter]) -> int:
    """Send each dead letter's event back to where the function reads events, then delete it."""
    sqs = spec.client("sqs")
    sent = 0
    for letter in letters:
        event = replay_event(letter)
        if event is None:
            release(spec, [letter])
            continue
        if spec.store == "minio":
            from bucket_ocr_local.event_queue import EventQueue

            EventQueue(spec.dispatcher.db_path).accept(event)
        else:
            sqs.send_message(QueueUrl=spec.events_queue_url, MessageBody=json.dumps(event))
        sqs.delete_message(QueueUrl=spec.dead_letter_queue_url, ReceiptHandle=letter.receipt_handle)
        sent += 1
    return sent


def replay_event(letter: DeadLetter) -> Any:
    if letter.kind == "function":
        record = letter.body["record"]
        # An SQS-path record is the whole SQS message; its body is the S3 notification.
        if isinstance(record, dict) and record.get("eventSource") == "aws:sqs":
            try:
                return json.loads(record["body"])
            except (KeyError, ValueError):
                return None  # a body that was never an event stays dead
        return {"Records": [record]}
    if letter.kind == "async":
        return letter.body["requestPayload"]
    return letter.body if isinstance(letter.body, dict) else None
